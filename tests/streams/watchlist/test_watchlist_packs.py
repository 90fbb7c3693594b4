"""Shipped concept packs: load, cover ten languages, fire on real phrasing, skip false friends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from streams.watchlist import (
    PACKS_DIR,
    CompiledWatchlist,
    load_watchlist,
    match_text,
    shipped_packs,
)

REQUIRED = {"de", "en", "fr", "nl", "es", "it", "pt", "pl", "ru", "zh"}
CONCEPTS = [
    "espionage",
    "sanctions",
    "cyberattack",
    "data-breach",
    "fraud",
    "corruption",
    "protest",
]

POSITIVE = {
    "espionage": {
        "de": "Der Verfassungsschutz warnt vor Wirtschaftsspionage aus China.",
        "en": "Two men were charged with spying for a foreign government.",
        "fr": "L'entreprise est soupçonnée d'espionnage industriel.",
        "nl": "De AIVD onderzoekt spionage door een buitenlandse mogendheid.",
        "es": "La policía detuvo a un presunto espía ruso.",
        "it": "L'azienda è accusata di spionaggio industriale.",
        "pt": "O governo acusou o diplomata de espionagem.",
        "pl": "Zatrzymano dwóch szpiegów pracujących dla obcego wywiadu.",
        "ru": "Задержан подозреваемый в шпионаже.",
        "zh": "当局以涉嫌间谍罪逮捕了一名工程师。",
    },
    "sanctions": {
        "de": "Die EU verhängt neue Sanktionen gegen Russland.",
        "en": "The company was added to the entity list and faces export controls.",
        "fr": "Washington annonce de nouvelles sanctions contre Téhéran.",
        "nl": "De EU legt nieuwe sancties op aan Iran.",
        "es": "Estados Unidos impuso sanciones a tres empresas.",
        "it": "L'Ue approva nuove sanzioni contro Mosca.",
        "pt": "Os EUA anunciaram novas sanções contra o país.",
        "pl": "Unia Europejska nałożyła nowe sankcje na Rosję.",
        "ru": "Евросоюз ввел новые санкции против компании.",
        "zh": "美国宣布对该公司实施出口管制。",
    },
    "cyberattack": {
        "de": "Ein Hackerangriff legte die Stadtverwaltung lahm.",
        "en": "The hospital was hit by ransomware on Monday.",
        "fr": "La mairie a été victime d'une cyberattaque.",
        "nl": "Het ziekenhuis werd getroffen door een cyberaanval.",
        "es": "La empresa sufrió un ciberataque el fin de semana.",
        "it": "Un attacco informatico ha colpito la regione.",
        "pt": "O ministério sofreu um ataque hacker.",
        "pl": "Szpital padł ofiarą cyberataku.",
        "ru": "Хакеры атаковали сайт министерства.",
        "zh": "该公司遭受勒索软件攻击。",
    },
    "data-breach": {
        "de": "Nach einem Datenleck sind Millionen Kundendaten im Netz.",
        "en": "The retailer disclosed a data breach affecting two million customers.",
        "fr": "Une fuite de données touche 10 millions de clients.",
        "nl": "Door een datalek liggen de gegevens van klanten op straat.",
        "es": "La aseguradora confirmó una filtración de datos.",
        "it": "La società ha subito un furto di dati.",
        "pt": "O banco confirmou um vazamento de dados.",
        "pl": "Doszło do wycieku danych klientów.",
        "ru": "Произошла утечка данных клиентов банка.",
        "zh": "这家公司发生大规模数据泄露。",
    },
    "fraud": {
        "de": "Die Staatsanwaltschaft ermittelt wegen Betrugs gegen den Vorstand.",
        "en": "The founder was convicted of fraud.",
        "fr": "Le dirigeant est poursuivi pour escroquerie.",
        "nl": "De directeur wordt verdacht van fraude.",
        "es": "El empresario fue detenido por estafa.",
        "it": "Il manager è indagato per frode fiscale.",
        "pt": "O empresário foi preso por fraude.",
        "pl": "Prokuratura oskarżyła go o oszustwo.",
        "ru": "Против бизнесмена возбуждено дело о мошенничестве.",
        "zh": "警方破获一起特大诈骗案。",
    },
    "corruption": {
        "de": "Der Minister soll Schmiergeld angenommen haben.",
        "en": "The official was arrested for taking bribes.",
        "fr": "Le maire est mis en examen pour corruption.",
        "nl": "De ambtenaar wordt verdacht van omkoping.",
        "es": "El alcalde fue acusado de soborno.",
        "it": "Il sindaco è accusato di corruzione.",
        "pt": "O deputado é investigado por corrupção.",
        "pl": "Urzędnik przyjął łapówkę.",
        "ru": "Чиновника задержали при получении взятки.",
        "zh": "该官员因受贿被调查。",
    },
    "protest": {
        "de": "Tausende Demonstranten zogen durch Berlin.",
        "en": "Protesters clashed with police in the capital.",
        "fr": "Des milliers de manifestants ont défilé à Paris.",
        "nl": "Duizenden betogers trokken door Den Haag.",
        "es": "Miles de manifestantes protestaron en Madrid.",
        "it": "Sciopero generale dei trasporti oggi.",
        "pt": "Milhares de manifestantes saíram às ruas.",
        "pl": "Rolnicy rozpoczęli strajk generalny.",
        "ru": "В столице прошли массовые протесты.",
        "zh": "数千人在首都举行抗议。",
    },
}

FALSE_FRIENDS = [
    ("de", "Der Umsatz betrug 5 Milliarden Euro, die Kosten betrugen 2 Milliarden."),
    ("de", "Die Protestanten feierten den Reformationstag."),
    ("de", "Das meldete die Nachrichtenagentur Reuters nach der Beratung."),
    ("de", "Als sie aufstanden, regnete es. Zum Essen gab es Hackfleisch."),
    ("en", "The port of Antwerp and the Protestant church; stocks rallied, shrimp scampi."),
    ("en", "The strike price of the option fell; a skin graft healed."),
    ("fr", "Le temple protestant de la ville a été rénové."),
    ("nl", "De zonsverduistering was zichtbaar; wij aten forellen in de protestantse kerk."),
    ("es", "La iglesia protestante celebró su aniversario."),
    ("it", "La spia dell'olio si è accesa; riciclaggio dei rifiuti; la chiesa protestante."),
    ("pt", "Ela ficou revoltada com a decisão da igreja protestante."),
    ("pl", "Mieszkańcy zamieszkali tu od lat obok kościoła protestanckiego."),
    ("ru", "Протестантская церковь выпустила демонстрационную версию программы."),
    ("zh", "他去商店买水果。"),
]


@pytest.fixture(scope="module")
def all_packs(tmp_path_factory: pytest.TempPathFactory) -> CompiledWatchlist:
    """A watch-list that includes every shipped pack with one rule per concept."""
    from streams.watchlist import compile_watchlist

    path = tmp_path_factory.mktemp("packs") / "all.yaml"
    rules = "\n".join(
        f"  - {{id: {c}, title: {c}, any: ['concept:{c}'], within: article}}" for c in CONCEPTS
    )
    path.write_text(f"include: {shipped_packs()}\nrules:\n{rules}\n", encoding="utf-8")
    return compile_watchlist(load_watchlist(path))


def test_six_packs_are_shipped() -> None:
    """The six packs named in the design are shipped."""
    assert shipped_packs() == [
        "cyberattack", "data-breach", "espionage", "fraud", "protest", "sanctions"
    ]  # fmt: skip


@pytest.mark.parametrize("pack", sorted(PACKS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_pack_loads_and_covers_required_languages(pack: Path) -> None:
    """Each pack is valid and every concept has terms in de en fr nl es it pt pl ru zh."""
    loaded = load_watchlist(pack)
    assert loaded.concepts
    for ident, concept in loaded.concepts.items():
        missing = REQUIRED - set(concept.terms)
        assert not missing, f"{pack.name}: {ident} lacks {sorted(missing)}"


@pytest.mark.parametrize(
    ("concept", "lang"), [(c, lang) for c in CONCEPTS for lang in sorted(REQUIRED)]
)
def test_concept_fires_in_every_language(
    all_packs: CompiledWatchlist, concept: str, lang: str
) -> None:
    """A rule written as concept:X fires on a typical sentence in each required language."""
    text = POSITIVE[concept][lang]
    fired = {m.rule_id for m in match_text(all_packs, "a", "", text, lang)}
    assert concept in fired, f"{concept}/{lang}: {text}"


@pytest.mark.parametrize(("lang", "text"), FALSE_FRIENDS, ids=[f[0] for f in FALSE_FRIENDS])
def test_false_friends_do_not_fire(all_packs: CompiledWatchlist, lang: str, text: str) -> None:
    """Look-alike words (betrug, Protestanten, Agentur, forellen…) fire no concept."""
    assert [m.rule_id for m in match_text(all_packs, "a", "", text, lang)] == []


def test_packs_do_not_fire_on_negative_samples(
    all_packs: CompiledWatchlist, samples: Path, read_sample: Callable[[str], tuple[str, str]]
) -> None:
    """The bundled negative samples (quarterly results, cloud prices, delivery) fire no concept."""
    for path in sorted(samples.glob("*.txt")):
        if path.name == "alibaba-liege-de.txt":
            continue
        title, body = read_sample(path.name)
        lang = path.stem.rsplit("-", 1)[-1]
        assert match_text(all_packs, path.stem, title, body, lang) == [], path.name
