"""The May-2024 wards that the postcode best-fit lookup gives no LSOA (2011).

LSOAs do not nest in wards: each LSOA counts wholly in the ward holding most of its
postcodes (lookups/lsoa11_to_ward2024_postcode_bestfit_lsc.csv). Two small May-2024 wards
hold the majority of no LSOA's postcodes, so every LSOA-based figure for them is empty
(SOURCES.md, notes). Tables keep them as rows, with this note, so every table lists the
same wards and says why these two have no figures.
"""
from __future__ import annotations

NO_LSOA_NOTE = ("no figures: no LSOA (2011) is best-fitted to this ward (it holds the majority of no "
                "LSOA's postcodes; see SOURCES.md), so population 0 and LSOA-based figures blank")
