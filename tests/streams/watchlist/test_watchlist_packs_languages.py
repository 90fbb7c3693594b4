"""Pack additions: Catalan, Romanian, Japanese, Korean; verb forms of bans; look-alikes."""

from __future__ import annotations

import pytest

from streams.watchlist import CompiledWatchlist, compile_watchlist, load_watchlist, match_text
from streams.watchlist.load import shipped_packs

CONCEPTS = ["espionage", "sanctions", "cyberattack"]

POSITIVE = [
    ("espionage", "ca", "La fiscalia investiga si van espiar proveïdors catalans."),
    ("espionage", "ca", "Detingut per espionatge industrial al port de Tarragona."),
    ("espionage", "ro", "DIICOT verifică dacă angajații au spionat furnizori români."),
    ("espionage", "ro", "Anchetă privind activități de spionaj la depozit."),
    ("espionage", "ja", "元技術者がスパイ活動の疑いで逮捕された。"),
    ("espionage", "ko", "전직 엔지니어가 간첩 혐의로 체포됐다."),
    ("sanctions", "ca", "Washington ha imposat noves sancions a tres empreses."),
    ("sanctions", "ro", "SUA extind sancțiunile împotriva companiei."),
    ("sanctions", "ro", "SUA extind sancţiunile împotriva companiei."),  # cedilla spelling
    ("sanctions", "ja", "米国は半導体の輸出規制を強化した。"),
    ("sanctions", "ko", "미국은 반도체 수출 통제를 강화했다."),
    ("cyberattack", "ca", "Un ciberatac paralitza el port de Barcelona."),
    ("cyberattack", "ro", "Un atac cibernetic a blocat portul Constanța."),
    ("cyberattack", "ja", "港のシステムがランサムウェアによるサイバー攻撃を受けた。"),
    ("cyberattack", "ko", "부산항이 사이버 공격으로 마비됐다."),
    ("espionage", "uk", "Колишнього офіцера засудили за шпигунство."),
    ("espionage", "cs", "Bývalý důstojník byl odsouzen za špionáž."),
    ("espionage", "tr", "Eski subay casusluk suçlamasıyla tutuklandı."),
    ("espionage", "fi", "Entinen upseeri tuomittiin teollisuusvakoilusta."),
    ("espionage", "el", "Πρώην αξιωματικός καταδικάστηκε για κατασκοπεία."),
    ("espionage", "id", "Mantan perwira ditangkap karena spionase."),
    ("sanctions", "uk", "США запровадили нові санкції проти компанії."),
    ("sanctions", "cs", "USA uvalily na firmu nové sankce."),
    ("sanctions", "tr", "ABD şirkete yeni yaptırımlar uyguladı."),
    ("sanctions", "fi", "EU asetti yhtiölle uusia talouspakotteita."),
    ("sanctions", "el", "Οι ΗΠΑ επέβαλαν νέες κυρώσεις στην εταιρεία."),
    ("sanctions", "id", "Amerika Serikat menjatuhkan sanksi baru kepada perusahaan itu."),
    ("cyberattack", "uk", "Кібератака паралізувала роботу порту."),
    ("cyberattack", "cs", "Kybernetický útok ochromil přístav."),
    ("cyberattack", "tr", "Siber saldırı limanın sistemlerini durdurdu."),
    ("cyberattack", "fi", "Kyberhyökkäys pysäytti sataman järjestelmät."),
    ("cyberattack", "el", "Κυβερνοεπίθεση παρέλυσε το λιμάνι."),
    ("cyberattack", "id", "Serangan siber melumpuhkan sistem pelabuhan."),
    # verb forms of bans
    ("sanctions", "de", "Die USA verbieten den Verkauf von Chips an den Konzern."),
    ("sanctions", "de", "Der Konzern wird aus dem Netz verbannt."),
    ("sanctions", "es", "Washington y Bruselas prohíben la venta de chips a la empresa."),
    ("sanctions", "pt", "Os EUA proíbem a venda de chips à empresa."),
    ("sanctions", "en", "The government banned the company's equipment from its networks."),
]

LOOK_ALIKES = [
    ("es", "Huawei abrió una tienda. Sin embargo, no habrá más aperturas."),
    ("pt", "A empresa apresentou embargos de declaração contra a decisão."),
    ("ru", "Санкционированный митинг прошел спокойно."),
    ("zh", "华为举办大学生黑客松大赛。"),
    ("ja", "社員食堂ではスパイスカレーが人気だ。"),
    ("ko", "새 스파이더맨 영화가 개봉했다."),
    ("en", "Her new spy novel is set in Vienna."),
    ("de", "Ihr neuer Spionagethriller spielt in Berlin."),
    ("fr", "Un roman d'espionnage couronné à Cognac."),
    ("ca", "La novel·la d'espies narra la vida d'una traductora."),
    ("ro", "Romanul de spionaj va fi ecranizat."),
    ("uk", "Санкціонований мітинг пройшов спокійно."),
    ("fi", "Myrsky pakotti koneen laskeutumaan Ouluun."),  # pakottaa = to force
    ("el", "Η κατασκευή της γέφυρας ολοκληρώθηκε."),  # construction, not espionage
    ("id", "Dokter memeriksa mata pasien itu."),  # mata = eye
    ("tr", "Kara kuvvetleri tatbikat yaptı."),  # kara = land
    ("cs", "Kontrola vozidel proběhla bez problémů."),  # inspection, not export control
]


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> CompiledWatchlist:
    """Every shipped pack, one article-scope rule per concept."""
    path = tmp_path_factory.mktemp("packs") / "all.yaml"
    rules = "\n".join(
        f"  - {{id: {c}, title: {c}, any: ['concept:{c}'], within: article}}" for c in CONCEPTS
    )
    path.write_text(f"include: {shipped_packs()}\nrules:\n{rules}\n", encoding="utf-8")
    return compile_watchlist(load_watchlist(path))


@pytest.mark.parametrize(("concept", "lang", "text"), POSITIVE)
def test_new_languages_and_verb_forms_fire(
    packs: CompiledWatchlist, concept: str, lang: str, text: str
) -> None:
    """Catalan, Romanian, Japanese, Korean sentences and verb forms of bans fire."""
    assert concept in {m.rule_id for m in match_text(packs, "a", "", text, lang)}


@pytest.mark.parametrize(("lang", "text"), LOOK_ALIKES)
def test_look_alikes_do_not_fire(packs: CompiledWatchlist, lang: str, text: str) -> None:
    """Fiction, "sin embargo", legal "embargos", "authorized", spice and spider fire nothing."""
    assert [m.rule_id for m in match_text(packs, "a", "", text, lang)] == []
