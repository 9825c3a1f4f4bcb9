"""Indicator import: read an indicator file, detect its geography and code vintage,
match it to the store, and say exactly what did not match and why.

Layouts read (CSV or XLSX):
- OHID Fingertips export: Indicator ID, Indicator Name, Area Code, Area Name, Area Type,
  Sex, Age, Category Type, Category, Time period, Value, Lower CI 95.0 limit,
  Upper CI 95.0 limit, Count, Denominator, Value note, ... England / region rows
  in the file become comparators, category breakdown rows are skipped (counted).
- simple long: area_code, indicator, period, value[, lower, upper, count, denominator]
  (also the staged shape lad_code/indicator_key/label/ci_lower/ci_upper/england_value).
- wide: one code column plus one numeric column per indicator.

Geography is detected from the codes (E01 LSOA 2011/2021, E05 ward by vintage Dec-2019 /
May-2024, E06/E07 district 2019/2024, E38 / 00Q sub-ICB, E54 ICB) and matched to the
store's drawable areas. Where an ONS lookup exists the mapping is applied and reported
(LSOA 2021 -> 2011 polygons via the ONS best-fit lookup, CCG/ODS codes -> sub-ICB),
never silently. Everything that is not drawn is listed with a reason.

`python -m geo indicator FILE` (geo/indicators_cli.py) prints the matched table and
the report. No streamlit/folium here.

Package layout (by stage): vocab.py, refs.py, model.py, read.py, match.py, config.py, combine.py, builtin.py, profile.py.
Every public name is re-exported here: `from geo import indicators` keeps working.
"""
from __future__ import annotations

from geo.errors import SourceError, UsageError  # noqa: F401  (raised by these functions; tests use I.UsageError)

from geo.indicators.vocab import (  # noqa: F401
    ALIASES,
    BY_LEVELS,
    ENGLAND_CODE,
    FAMILIES,
    FAMILY_LABEL,
    FAMILY_LEVEL,
    FAMILY_TARGETS,
    ICB_CODE,
    MISSING_MARKERS,
    PREFIX_KIND,
    SUPPRESSED_MARKERS,
    VINTAGES,
    code_kind,
)
from geo.indicators.refs import (  # noqa: F401
    Reference,
    reference,
)
from geo.indicators.model import (  # noqa: F401
    IndicatorData,
    Report,
    TABLE_COLUMNS,
)
from geo.indicators.read import (  # noqa: F401
    normalise_frame,
    parse_number,
    read_bytes,
    read_table,
)
from geo.indicators.match import (  # noqa: F401
    import_bytes,
    import_file,
    import_frame,
)
from geo.indicators.config import (  # noqa: F401
    apply_config,
    load_config,
)
from geo.indicators.combine import (  # noqa: F401
    aggregate,
    area_frame,
    by_imd_decile,
    imd_decile_cuts,
    output_table,
)
from geo.indicators.builtin import (  # noqa: F401
    BUILTINS,
    LONG_COLUMNS,
    builtin_labels,
    load_builtin,
    long_frame,
    wilson_interval,
)
from geo.indicators.profile import (  # noqa: F401
    compare_to,
    ward_profile_rows,
)
