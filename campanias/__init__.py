"""The `campanias` bounded context (DESIGN §2). Its domain, commands and API arrive with its own issue."""
