"""English, as a clinic in Europe writes it: 9 March 2026, 14:30 (see clinic/formats)."""

# Django's names.
DATE_FORMAT = "j F Y"  # 9 March 2026
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j F Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"  # 9 March
SHORT_DATE_FORMAT = "d/m/Y"  # 09/03/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
# What a typed date may look like (ISO first, which <input type="date"> sends); never
# month-first, which would read 02/12/2026 as 12 February.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d %b %Y", "%d %B %Y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]

# The pages' own names.
WEEKDAY_DATE_FORMAT = "l j F Y"  # Monday 9 March 2026
WEEKDAY_DAY_MONTH_FORMAT = "l j F"  # Monday 9 March
SHORT_WEEKDAY_DATE_FORMAT = "D j M Y"  # Mon 9 Mar 2026
SHORT_WEEKDAY_DAY_MONTH_FORMAT = "D j M"  # Mon 9 Mar
WEEKDAY_DATETIME_ZONE_FORMAT = "l j F Y, H:i T"  # Monday 9 March 2026, 10:00 CET
SHORT_WEEKDAY_DATETIME_FORMAT = "D j M, H:i"  # Mon 9 Mar, 10:00
SHORT_WEEKDAY_DATETIME_ZONE_FORMAT = "D j M, H:i T"  # Mon 9 Mar, 10:00 CET
TIME_ZONE_FORMAT = "H:i T"  # 10:00 CET
DAY_FORMAT = "j"  # 9 (the first day of "9-15 March 2026")
