# The back office's formats over Django's own `es` ones (settings.FORMAT_MODULE_PATH): every instant
# with its seconds and its zone's offset, so a page never leaves an operator guessing which zone a
# time is in, and two events of one second can be told apart.
DATETIME_FORMAT = r"d/m/Y H:i:s \U\T\CO"
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
