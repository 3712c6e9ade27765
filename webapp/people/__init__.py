"""People and units (责任落实到人): the admins' and commanders' page of staff, teams and
shifts, to add, edit and retire them."""

from webapp.people.views import bp

__all__ = ["bp"]
