"""Data shipped with lanhmanh: `units-2024.csv.gz`, the list of administrative units in force just
before the 1 July 2025 reform (63 provinces, 696 districts, 10,051 communes, wards and townships),
and `units-2024.json`, where it came from (built by tools/build_unit_lists.py). Read through
`lanhmanh.engine.model.admin_units.pre_reform()`."""
