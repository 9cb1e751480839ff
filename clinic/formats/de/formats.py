"""German: 09.03.2026, Montag, 9. März 2026, 14:30 (see clinic/formats). Django's own
``de`` formats fill in the rest (input formats, separators)."""

# Django's names, as Django's de module has them (listed for the reader).
DATE_FORMAT = "j. F Y"  # 9. März 2026
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j. F Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j. F"  # 9. März
SHORT_DATE_FORMAT = "d.m.Y"  # 09.03.2026
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Montag

# The pages' own names.
WEEKDAY_DATE_FORMAT = "l, j. F Y"  # Montag, 9. März 2026
WEEKDAY_DAY_MONTH_FORMAT = "l, j. F"  # Montag, 9. März
SHORT_WEEKDAY_DATE_FORMAT = "D, d.m.Y"  # Mo, 09.03.2026
SHORT_WEEKDAY_DAY_MONTH_FORMAT = "D, j. M"  # Mo, 9. Mär
WEEKDAY_DATETIME_ZONE_FORMAT = "l, j. F Y, H:i T"  # Montag, 9. März 2026, 10:00 CET
SHORT_WEEKDAY_DATETIME_FORMAT = "D, d.m., H:i"  # Mo, 09.03., 10:00
SHORT_WEEKDAY_DATETIME_ZONE_FORMAT = "D, d.m., H:i T"  # Mo, 09.03., 10:00 CET
TIME_ZONE_FORMAT = "H:i T"  # 10:00 CET
DAY_FORMAT = "j."  # 9. (the first day of "9.-15. März 2026")
