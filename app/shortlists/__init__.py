"""Selection committees' shortlists: criteria, ranking and quotas (`ranking`, pure), saved
and frozen shortlists and export jobs (`models`, `service`), CSV/XLSX/PDF files (`exports`).
See docs/shortlists.md for the algorithm with a worked example."""
