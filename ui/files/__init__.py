"""Files the bot sends: charts (PNG), PDF documents, QR codes and posters, tables (CSV, XLSX)
and calendar entries (.ics). Pure: bytes in memory, no sending."""
