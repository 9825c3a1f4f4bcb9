"""Service register: GP practices, hospitals, Community Diagnostic Centres, ACT hospitals,
screening sites, HARI bus stops.

For LSC (the default) the register is LSC's staged and curated files; for any other ICB
(`load_register(icb=CODE)` or `config=config_for(CODE)`) it is that ICB's GP practices,
NHS hospital sites and CDCs from the England-wide files (geo.plan_national). Uploads
and saved files are checked against the footprint of the config they are read with.

Categories, styles and shipped sources are in ``config/services.yaml``. Every source —
the staged open-data files, the curated files in ``data/services/`` and user uploads —
goes through the same row-level validation (`import_bytes` / `validate_rows`), so every
rejected row is listed with its file, row and reason, and accepted rows load.

Import schema (CSV, XLSX or GeoJSON): see ``data/templates/README.md``. Location from,
in order: lat/lon, easting/northing (British National Grid), site_ref (ODS code of a
staged hospital / GP practice, LSC's files then England's), postcode (Code-Point Open:
any English postcode, geo.geocode).

Row numbers in messages are spreadsheet rows (the header is row 1, the first data row
is row 2); for GeoJSON they are feature numbers (1 = first feature).

Package layout (by stage): config.py, read.py, cells.py, validate.py, register.py, userdata.py, status.py.
Every public name is re-exported here: `from geo import services` keeps working.
"""
from __future__ import annotations

import os  # noqa: F401  (tests patch sv.os.replace)

from geo.services.config import (  # noqa: F401
    ALIASES,
    ImportFailure,
    MAX_NAME,
    RECORD_COLUMNS,
    SCHEMA,
    SEA_OR_ABROAD,
    STATUSES,
    TEXT_FIELDS,
    ENGLAND,
    LSC_ICB,
    categories,
    category_names,
    config_for,
    footprint,
    footprint_name,
    icb_of,
    in_footprint,
    km_outside,
    load_config,
    site_refs,
    site_refs_england,
)
from geo.services.read import (  # noqa: F401
    RawTable,
    _decode,
    _sniff_delimiter,
    import_limits,
    read_csv_bytes,
    read_geojson_bytes,
    read_table,
    read_xlsx_bytes,
)
from geo.services.validate import (  # noqa: F401
    ImportResult,
    validate_rows,
)
from geo.services.register import (  # noqa: F401
    ADAPTERS,
    Register,
    import_bytes,
    import_file,
    in_scope,
    load_register,
)
from geo.services.userdata import (  # noqa: F401
    atomic_write_bytes,
    save_user_records,
    user_files,
    user_services_dir,
)
from geo.services.status import (  # noqa: F401
    effective_status,
    open_sites,
)
