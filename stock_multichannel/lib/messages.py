"""Messages made where there is no Odoo environment to translate them (``lib/``, a
connector's ``api/``), translated by the ORM side when it stores or shows them.

A module marks its texts with ``_lt = translatable(__name__)`` and ``_lt("...")``, which
Odoo's term extraction picks up into the addon's ``.pot``. The result is the English
text (a ``str``, usable wherever text goes) that keeps its template, its values and its
addon, so that :func:`translated` can render it in a user's language later.
"""


class Message(str):
    """English text that remembers how to say it again in another language."""

    def __new__(cls, addon, template, params=None):
        params = dict(params or {})
        message = super().__new__(cls, template % params if params else template)
        message.addon, message.template, message.params = addon, template, params
        return message

    def with_params(self, **params):
        """This message's template said with ``params`` (a template marked once, used often)."""
        return Message(self.addon, self.template, params)

    @classmethod
    def join(cls, separator, parts):
        """``parts`` joined by ``separator``, each still translatable on its own."""
        parts = list(parts)
        addons = [part.addon for part in parts if isinstance(part, Message)]
        template = separator.replace("%", "%%").join(f"%(part{index})s" for index in range(len(parts)))
        return cls(addons[0] if addons else "", template, {f"part{index}": part for index, part in enumerate(parts)})


def translatable(module_name):
    """The ``_lt`` marker of a module: ``_lt("%(what)s is missing", what=...)``."""
    parts = module_name.split(".")
    addon = parts[2] if parts[:2] == ["odoo", "addons"] and len(parts) > 2 else parts[0]

    def _lt(template, **params):
        return Message(addon, template, params)

    return _lt


def translated(env, value):
    """``value`` in the language of ``env``: a :class:`Message`, an exception carrying
    one, or any text (returned as it is)."""
    if isinstance(value, BaseException):
        value = value.args[0] if len(value.args) == 1 and isinstance(value.args[0], Message) else str(value)
    if not isinstance(value, Message):
        return value if isinstance(value, str) else str(value)
    params = {key: translated(env, item) if isinstance(item, Message) else item for key, item in value.params.items()}
    if not env.lang or env.lang == "en_US" or not value.addon:
        return value.template % params if params else value.template
    from odoo.tools.translate import get_translation  # noqa: PLC0415 - lib/ imports without Odoo

    return get_translation(value.addon, env.lang, value.template, params)
