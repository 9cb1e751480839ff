"""Date and time formats per language (``FORMAT_MODULE_PATH``), read before Django's own.

24-hour times in both languages: the clinic's door says 14:30, and so do its pages, its
emails and its invites; English gets day-month-year, not the US month-first dates that
Django's ``en`` formats have. Beside Django's format names (``DATE_FORMAT``,
``SHORT_DATE_FORMAT``...) each module names the formats the pages use, so that a
template asks for ``|date:"WEEKDAY_DATE_FORMAT"`` and gets "Monday 9 March 2026" in
English and "Montag, 9. März 2026" in German; both modules define every name (a test
checks it), because a name a module lacks would be printed as the format itself.
"""
