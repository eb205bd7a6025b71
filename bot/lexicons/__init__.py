"""Topic lexicons shipped as data: one YAML file per topic (`ai.yaml`, `policy-finance.yaml`, ...).

The files are read by `bot.classify.lexicon`; this package holds no code so that they ship as
package data and can be found with `importlib.resources`.
"""
