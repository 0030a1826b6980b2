"""Files of any layout (kind `files`): formats and mappings declared in channels.yml, read
as streams (values, formats, reader, mapping, sniff)."""
