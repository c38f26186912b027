"""One database connection kept per process and database, for short statements that
would otherwise open a connection (or borrow one from Odoo's pool) each time: the
cron workers' notifications and the shared rate window."""

import os

import psycopg2

from odoo import sql_db

_kept = {}  # (database name, autocommit, purpose): (process id, connection)


def kept_connection(dbname, autocommit=False, purpose=""):
    """This process's connection to ``dbname`` for ``purpose``, opened at first use and
    again when the server closed it or after a fork (the parent's is left alone: closing
    it would close it for the parent). Its users take turns on it under a lock of
    theirs: each purpose has its own connection."""
    key = (dbname, autocommit, purpose)
    pid, connection = _kept.get(key, (None, None))
    if connection is None or connection.closed or pid != os.getpid():
        _dbname, info = sql_db.connection_info_for(dbname)
        connection = psycopg2.connect(**info)
        connection.autocommit = autocommit
        _kept[key] = (os.getpid(), connection)
    return connection


def forget_kept_connection(dbname, autocommit=False, purpose=""):
    """Drop this process's connection to ``dbname`` (broken): the next use opens another."""
    pid, connection = _kept.pop((dbname, autocommit, purpose), (None, None))
    if connection is not None and pid == os.getpid():
        connection.close()
