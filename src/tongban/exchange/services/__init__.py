"""The data layer's writes, one module per part: ``elements`` (数据元), ``resources`` (资源目录,
数源确认), ``sharing`` (供需对接, grants, keys, records and the exchange). Code lists are in
``tongban.exchange.codelists``."""
