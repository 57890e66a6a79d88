"""File writers shared by the exports of every feature: the streaming XLSX writer (xlsx) and
its column widths (xlsx_widths)."""
