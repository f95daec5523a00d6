"""metodbot: methodological support of teachers in Telegram. `bot/` wires everything."""
