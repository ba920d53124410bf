"""Helpers the tests share: real workbooks, inboxes, servers and processes built from
literal data. Test modules import from here, never from one another."""
