"""The people directory for editors: hosts and guests from the feeds' podcast:person credits."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.store.schema import Episode, EpisodePerson


@dataclass
class Person:
    """One name credited by the feeds, with its roles, link and episodes."""

    name: str
    roles: set[str] = field(default_factory=set)
    href: str | None = None
    episodes: list[tuple[int, str]] = field(default_factory=list)


def directory(session: Session) -> list[Person]:
    """Everyone credited in any episode, by name."""
    people: dict[str, Person] = {}
    rows = session.execute(
        select(EpisodePerson.name, EpisodePerson.role, EpisodePerson.href, Episode.id, Episode.title)
        .join(Episode, Episode.id == EpisodePerson.episode_id)
        .order_by(Episode.published_at.desc().nulls_last(), Episode.id.desc())
    )
    for name, role, href, episode_id, title in rows:
        person = people.setdefault(name, Person(name))
        if role:
            person.roles.add(role.lower())
        person.href = person.href or href
        if (episode_id, title) not in person.episodes:
            person.episodes.append((episode_id, title))
    return sorted(people.values(), key=lambda p: p.name.casefold())


def names(session: Session) -> list[str]:
    """Every credited name, for the editor's speaker suggestions."""
    return sorted(set(session.scalars(select(EpisodePerson.name).distinct())), key=str.casefold)
