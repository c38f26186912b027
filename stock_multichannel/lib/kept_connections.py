"""One database connection kept per process and database, for short statements that
would otherwise open a connection (or borrow one from Odoo's pool) each time: the
cron workers' notifications and the shared rate window."""

import os

import psycopg2

from odoo import sql_db

_kept = {}  # (database name, autocommit, options): (process id, connection)


def kept_connection(dbname, autocommit=False, options=""):
    """This process's connection to ``dbname``, opened at first use and again when the
    server closed it or after a fork (the parent's is left alone: closing it would close
    it for the parent). Its callers take turns on it: each holds its own lock.

    ``options``: the session's settings (libpq's, e.g. ``-c synchronous_commit=off``)."""
    key = (dbname, autocommit, options)
    pid, connection = _kept.get(key, (None, None))
    if connection is None or connection.closed or pid != os.getpid():
        _dbname, info = sql_db.connection_info_for(dbname)
        if options:
            info = dict(info, options=f"{info.get('options', '')} {options}".strip())
        connection = psycopg2.connect(**info)
        connection.autocommit = autocommit
        _kept[key] = (os.getpid(), connection)
    return connection


def forget_kept_connection(dbname, autocommit=False, options=""):
    """Drop this process's connection to ``dbname`` (broken): the next use opens another."""
    pid, connection = _kept.pop((dbname, autocommit, options), (None, None))
    if connection is not None and pid == os.getpid():
        connection.close()
