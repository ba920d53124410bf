"""The Sammanfattning of one planbok: its figures (:mod:`xlplan.summary.compute`, pure, and
their JSON) and the same figures laid out as rows for the terminal, a sheet and a mail
(:mod:`xlplan.summary.rows`)."""
