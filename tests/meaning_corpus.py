"""A small archive for search by meaning: interviews on a few themes, one show that publishes nothing, distractors."""

from __future__ import annotations

from archive import store
from archive.context import Archive
from archive.ingest import embed_passages, index_episodes
from tests.search_corpus import add_show, show_note_sentences

FIRES = [
    "Il y a eu un incendie",
    "malveillant dans la forêt hier soir, près du lac.",
    "Les pompiers ont travaillé toute la nuit pour le contenir.",
    "Les gens du village ont dû partir en pleine nuit.",
]
SUMMER_FIRES = [
    "Les feux de forêt ont brûlé des milliers d'hectares cet été dans le Nord.",
    "À Chibougamau, on a reçu l'ordre d'évacuer la ville.",
    "La fumée des incendies s'est rendue jusqu'à Montréal.",
]
HOCKEY = [
    "Le Canadien a perdu en prolongation contre Toronto hier soir.",
    "Le gardien a fait quarante arrêts, mais ça n'a pas suffi.",
    "Les partisans au Centre Bell étaient déçus.",
]
RACE = [
    "Au 15e tour, le pilote a perdu le contrôle dans l'épingle",
    "et il a fini dans le mur de pneus.",
    "Le Grand Prix de Trois-Rivières attire des milliers de fans chaque été.",
]
TEENS = [
    "Moi ce que je vois, c'est des jeunes qui passent six heures par jour sur les médias sociaux.",
    "Les parents sont inquiets, pis les écoles aussi.",
]
# The same theme as FIRES, in a show that does not publish its transcripts: readers may
# see none of it, so no search, related list or "more like this" may show it.
HIDDEN = [
    "Un feu de broussailles a menacé les chalets au bord du lac.",
    "Les pompiers volontaires sont venus de trois villages pour l'éteindre.",
]


def build(archive: Archive, distractors: int = 8) -> dict[str, int]:
    """Store, embed and index the interviews; returns episode ids by title."""
    ids = add_show(
        archive,
        "Le Magazine",
        {"Feux": FIRES, "Feux de l'été": SUMMER_FIRES, "Hockey": HOCKEY, "Course": RACE, "Ados": TEENS},
        year=2024,
    )
    hidden = add_show(archive, "Privé", {"Broussailles": HIDDEN}, year=2024)
    with archive.db.session() as s:
        store.set_feed_publishing(s, store.get_episode(s, hidden["Broussailles"]).feed_id, False)
    ids.update(hidden)
    # Show notes of a real French serial, a few sentences to an episode: the archive's
    # mean vector (related interviews are measured against it) then means something.
    sentences = show_note_sentences("acast_fr_serial_duration_mix.xml", distractors * 5)
    notes = {f"Notes {i}": sentences[i * 5 : i * 5 + 5] for i in range(distractors) if sentences[i * 5 : i * 5 + 5]}
    ids.update(add_show(archive, "Feuilleton", notes, year=2023))
    embed_passages(archive)
    index_episodes(archive)
    return ids
