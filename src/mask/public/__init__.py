"""What public pages share (short links and bio pages): host → domain, tracking, single-flight lookups, caches."""
