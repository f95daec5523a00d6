"""The queries, one module per area; `db.repo.Repo` is the facade that hands them out."""
