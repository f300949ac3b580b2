"""Keeping the blocklist fresh from Douyin: pull (the source of truth), push (the fast path) and
live look-ups of orders a station scanned that we do not know yet.

- bookmarks: pure window arithmetic for incremental pulls
- mapping: Douyin records and push messages → server.ingest records
- lease: one sync process per shop at a time, via a lease row in the database
- worker: the pull loop per shop
- push: applying stored webhook messages
- lookup: bounded live look-up on a miss
- shops: building a shop's API client and token keeper from its database row
"""
