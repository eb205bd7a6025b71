"""The classifier's contract, case by case: boundaries, normalisation, exclusions, scoring, reasons.

Mechanics are checked on small hand-made rules; the exclusions and weights the contract names
(`속보치`, `record-breaking`, a passing "AI camera") are checked on the shipped
`subscriptions.yaml`, because that is where they live. The seed article of ../shared/seed/
must carry all three topics.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest

from bot.classify import (
    PERSONAL_PREFIX,
    Classifier,
    ClassifierCache,
    LexiconError,
    TopicRule,
    lexicon_names,
    load_lexicon,
    normalize,
    personal_rule,
)
from bot.classify.automaton import _Table
from bot.classify.context import Spelling, lexicon_adjusters
from bot.classify.lexicon import parse_lexicon
from bot.classify.match import ALONE_RULE, FIELD_CHARS
from bot.config import ConfigError, load_config, parse_config
from bot.feeds.parse import parse_feed
from bot.models import FeedItem, Reason, Veto
from tests.seed import SeedArticle, load_seed
from tests.shared import SEED_DIR, WHERE

REPO = Path(__file__).resolve().parents[2]
SHIPPED_TOPICS = ("ai", "policy-finance", "breaking")


def item(
    title: str = "",
    summary: str = "",
    *,
    content: str = "",
    image_alt: str = "",
    categories: tuple[str, ...] = (),
) -> FeedItem:
    return FeedItem(
        key="k",
        guid="k",
        link=None,
        title=title,
        summary=summary,
        content=content,
        image_alt=image_alt,
        categories=categories,
    )


def one_hit_rule(topic: str, *keywords: str, exclude: tuple[str, ...] = ()) -> TopicRule:
    """Any single hit in the title or the summary tags the item."""
    return TopicRule(
        topic, keywords, exclude, fields=("title", "summary"), title_weight=1, threshold=1
    )


AI = Classifier([one_hit_rule("ai", "AI")])


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(load_config(REPO / "subscriptions.yaml").config.topic_rules())


# -- boundaries ---------------------------------------------------------------------------------

LATIN_BOUNDARY = [
    ("AI정책금융 프로그램 출범", True),
    ("AI가 바꾸는 일자리", True),
    ("인공지능(AI) 기본법", True),
    ("生成AI 市場が拡大", True),
    ("An AI-driven newsroom", True),
    ("AI", True),
    ("KAIST 연구진, 신소재 개발", False),
    ("The minister said on Monday", False),
    ("AIG shares fall", False),
    ("MAIN STREET rally", False),
    ("Thai baht weakens", False),
    ("AIé, a café chain", False),  # a non-ASCII Latin letter touches it too
    ("Version 2AI of the app", False),  # so does a digit
]


@pytest.mark.parametrize(("text", "fires"), LATIN_BOUNDARY)
def test_a_latin_keyword_must_not_touch_other_latin_letters_or_digits(
    text: str, fires: bool
) -> None:
    assert ("ai" in AI.classify(item(text)).topics) is fires


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("정책금융", "정책금융을 늘린다"),
        ("정책금융", "AI정책금융 프로그램"),
        ("인공지능", "인공지능이 인간보다 공정했다"),
        ("인공지능", "초인공지능 시대"),
    ],
)
def test_a_hangul_keyword_matches_inside_words(keyword: str, text: str) -> None:
    classifier = Classifier([one_hit_rule("t", keyword)])
    assert classifier.classify(item(text)).topics == ("t",)


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("AI", "ＡＩ 반도체 수출"),  # full-width letters, NFKC
        ("Ai", "ai chips are scarce"),  # case folding
        ("ai", "AI chips are scarce"),  # the keyword is folded the same way
        ("ＡＩ", "AI chips"),
        ("저리 대출", "3조원 규모 저리  대출 출시"),  # runs of whitespace count as one space
        ("저리 대출", "3조원 규모 저리\n대출 출시"),
        ("Straße", "STRASSE closed"),  # casefold, not lower
    ],
)
def test_text_and_keywords_are_nfkc_normalised_and_case_folded(keyword: str, text: str) -> None:
    classifier = Classifier([one_hit_rule("t", keyword)])
    assert classifier.classify(item(text)).topics == ("t",)


@pytest.mark.parametrize(
    ("keyword", "text", "hits"),
    [
        ("AI", "Ai Weiwei exhibition opens", False),  # a name
        ("AI", "ai chips are scarce", False),
        ("AI", "AI chips are scarce", True),
        ("AI", "ＡＩ 반도체", True),  # full-width capitals are capitals
        ("AI", "STRAẞE AI", True),  # folding changes the length before it: case not checked
        ("HUG", "hug your children", False),
        ("ai", "Ai Weiwei exhibition opens", True),  # a keyword in small letters folds
        ("NATO", "Nato leaders meet", True),  # house styles write longer acronyms as words
    ],
)
def test_a_keyword_in_capitals_is_an_acronym(keyword: str, text: str, hits: bool) -> None:
    classifier = Classifier([one_hit_rule("t", keyword)])
    assert (classifier.classify(item(text)).topics == ("t",)) is hits


def test_full_width_letters_still_obey_the_latin_boundary() -> None:
    assert AI.classify(item("ＫＡＩＳＴ 연구")).topics == ()


# -- exclusions (shipped config) ----------------------------------------------------------------

NOT_BREAKING = [
    ("2분기 GDP 속보치 0.6% 성장…수출이 견인", "", Veto("속보", "속보치", "title")),
    ("Record-breaking heatwave grips the city", "", Veto("BREAKING", "-breaking", "title")),
    (
        "Breaking the cycle: how one town cut unemployment",
        "",
        Veto("BREAKING", "breaking the", "title"),
    ),
    ("[단독] 건설사, 하청 대금 300억 미지급", "", None),
    ("정부, 반도체 업계와 간담회…공급망 대책 논의(종합2보)", "", None),
    ("[뉴스쏙:속] 오늘 꼭 알아야 할 경제 뉴스", "", None),
    ("Business: BreakingNews.ie", "BreakingNews.ie daily business wrap", None),
    ("BreakingNews Daily market wrap", "From BreakingNews Daily: shares edge higher", None),
    ("Apple ships update just in time for the holidays", "", None),
]


@pytest.mark.parametrize(("title", "summary", "veto"), NOT_BREAKING)
def test_breaking_exclusions_hold_and_vetoes_are_reported(
    shipped: Classifier, title: str, summary: str, veto: Veto | None
) -> None:
    result = shipped.classify(item(title, summary))
    assert "breaking" not in result.topics
    if veto is not None:
        assert veto in result.vetoes


@pytest.mark.parametrize(
    ("title", "summary", "keyword", "field"),
    [
        ("[속보] 기준금리 동결", "", "[속보]", "title"),
        ("[속보]행정안전부 초대 경찰국장 임명", "", "[속보]", "title"),
        ("(1보) 국회, 인공지능 기본법 통과", "", "(1보)", "title"),
        ("[긴급] 수도권 호우경보", "", "[긴급]", "title"),
        ("기준금리 동결", "[속보] 한국은행이 기준금리를 동결했다.", "[속보]", "lead"),
        ("BREAKING: Earthquake strikes off the coast", "", "Breaking:", "title"),
        ("BREAKING Earthquake strikes off the coast", "", "BREAKING", "title"),
        ("Parliament votes", "Breaking: Lawmakers passed the bill.", "Breaking:", "lead"),
        ("JUST IN: Central bank holds rates", "", "JUST IN:", "title"),
    ],
)
def test_breaking_markers_fire_with_their_reason(
    shipped: Classifier, title: str, summary: str, keyword: str, field: str
) -> None:
    tag = next(t for t in shipped.classify(item(title, summary)).tags if t.topic == "breaking")
    assert Reason(keyword, field) in tag.reasons


def test_an_exclusion_only_cancels_the_hit_it_overlaps(shipped: Classifier) -> None:
    result = shipped.classify(item("[속보] 2분기 GDP 속보치 0.6% 성장"))
    assert "breaking" in result.topics
    assert Veto("속보", "속보치", "title") in result.vetoes


def test_exclusions_are_per_topic() -> None:
    classifier = Classifier(
        [one_hit_rule("a", "속보", exclude=("속보치",)), one_hit_rule("b", "속보")]
    )
    result = classifier.classify(item("GDP 속보치 발표"))
    assert result.topics == ("b",)
    assert result.vetoes == (Veto("속보", "속보치", "title"),)


@pytest.mark.parametrize(
    "text",
    ["조류인플루엔자(AI) 확산 비상", "고병원성 AI 확진 농가 늘어", "AI 카메라 탑재한 보급형 폰"],
)
def test_other_meanings_of_ai_are_vetoed(shipped: Classifier, text: str) -> None:
    result = shipped.classify(item(text))
    assert "ai" not in result.topics
    assert any(v.keyword == "AI" and v.field == "title" for v in result.vetoes)


# -- title weight and threshold -----------------------------------------------------------------

PHONE_LAUNCH = (
    "삼성전자가 보급형 5G 스마트폰을 29일 출시한다고 밝혔다. 6.4형 대화면과 5000mAh 배터리, "
    "4800만 화소 메인 카메라를 갖췄다. 강력한 인공지능(AI) 카메라로 저조도에서도 선명한 사진을 "
    "찍을 수 있다. 가격은 49만9400원이다."
)


def test_a_passing_ai_mention_in_a_phone_launch_does_not_tag_ai(shipped: Classifier) -> None:
    assert (
        "ai"
        not in shipped.classify(item("보급형 스마트폰 출시…출고가 49만원", PHONE_LAUNCH)).topics
    )
    review = "Review: the Pixelon 9 has a great battery and an AI camera mode"
    assert "ai" not in shipped.classify(item(review, "Two-day battery life.")).topics


def test_a_title_hit_tags_ai(shipped: Classifier) -> None:
    tag = next(
        t
        for t in shipped.classify(item("AI가 바꾸는 일자리", PHONE_LAUNCH)).tags
        if t.topic == "ai"
    )
    assert Reason("AI", "title") in tag.reasons


def test_hits_in_the_lead_add_up_to_the_threshold(shipped: Classifier) -> None:
    one = "정부가 소프트웨어 산업 지원책을 내놨다. 인공지능 분야도 포함됐다."
    two = "정부가 인공지능 산업 지원책을 내놨다. 초거대 언어모델 개발에 500억원을 투입한다."
    assert "ai" not in shipped.classify(item("정부, 산업 지원책 발표", one)).topics
    assert "ai" in shipped.classify(item("정부, 산업 지원책 발표", two)).topics


@pytest.mark.parametrize(
    ("title", "summary", "score", "tagged"),
    [
        ("AI", "", 2.0, True),  # one title hit counts title_weight
        ("", "AI", 1.0, False),  # one summary hit is a passing mention
        ("", "AI and more AI", 2.0, True),
        ("AI", "AI", 3.0, True),
        ("", "", 0.0, False),
    ],
)
def test_title_weight_and_threshold(title: str, summary: str, score: float, tagged: bool) -> None:
    rule = TopicRule("ai", ("AI",), fields=("title", "summary"), title_weight=2, threshold=2)
    tags = Classifier([rule]).classify(item(title, summary)).tags
    assert bool(tags) is tagged
    if tagged:
        assert tags[0].score == score


def test_the_longest_overlapping_keyword_is_one_hit() -> None:
    rule = TopicRule("ai", ("AI", "AI칩", "인공지능(AI)"), fields=("title",), threshold=2)
    assert Classifier([rule]).classify(item("AI칩 수출")).tags[0].score == 2.0
    glossed = Classifier([rule]).classify(item("인공지능(AI) 수출")).tags[0]
    assert glossed.score == 2.0 and glossed.reasons == (Reason("인공지능(AI)", "title"),)


def test_a_topic_score_does_not_depend_on_other_topics() -> None:
    """Regression: nesting used to be checked against the last 4 kept hits of *any* topic."""
    title = "반도체 수출 지원 확대"
    own = TopicRule("t", ("반도체 수출 지원 확대", "확대"), fields=("title",), title_weight=1)
    others = [
        one_hit_rule(f"o{i}", word)
        for i, word in enumerate(["반도체", "반도체 수출", "수출", "수출 지원", "지원"])
    ]
    alone = Classifier([own]).classify(item(title))
    crowded = Classifier([own, *others]).classify(item(title))
    assert "t" not in alone.topics and "t" not in crowded.topics


# -- reasons ------------------------------------------------------------------------------------


def test_reasons_name_the_keyword_as_written_and_the_field() -> None:
    rule = TopicRule(
        "ai",
        ("AI", "Machine Learning"),
        fields=("title", "lead", "summary", "content", "categories"),
        title_weight=2,
        threshold=2,
    )
    filler = "x " * 120  # keeps the summary's and content's hits out of the 200-character lead
    result = Classifier([rule]).classify(
        item(
            "AI 규제 논의",
            filler + "machine learning",
            content=filler + "MACHINE LEARNING",
            image_alt="AI",
            categories=("Machine learning",),
        )
    )
    assert result.tags[0].reasons == (
        Reason("AI", "title"),
        Reason("AI", "lead"),
        Reason("Machine Learning", "summary"),
        Reason("Machine Learning", "content"),
        Reason("Machine Learning", "categories"),
    )
    assert result.tags[0].score == 2 + 4


def test_fields_a_rule_does_not_read_never_count() -> None:
    rule = TopicRule("ai", ("AI",), fields=("title",), threshold=1)
    assert Classifier([rule]).classify(item("", "AI", content="AI", image_alt="AI")).tags == ()


# -- personal keywords --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fires"), LATIN_BOUNDARY)
def test_personal_keywords_follow_the_same_boundary_rule(text: str, fires: bool) -> None:
    classifier = ClassifierCache([]).get(["AI"])
    assert (PERSONAL_PREFIX + "ai" in classifier.classify(item(text)).topics) is fires


@pytest.mark.parametrize(
    ("keyword", "title", "summary", "fires"),
    [
        ("반도체", "반도체가 수출 견인", "", True),
        ("반도체", "", "AI반도체 수출이 늘었다", True),
        ("ＡＩ", "ai 규제", "", True),
        ("Apple", "Pineapple prices", "", False),
        ("Apple", "", "Shares of Apple rose", True),
    ],
)
def test_personal_keywords_tag_on_one_hit_in_title_or_summary(
    keyword: str, title: str, summary: str, fires: bool
) -> None:
    rule = personal_rule(keyword)
    result = Classifier([rule]).classify(item(title, summary))
    assert (rule.topic in result.topics) is fires


def test_personal_keywords_do_not_read_the_body() -> None:
    rule = personal_rule("반도체")
    assert Classifier([rule]).classify(item("", "", content="반도체")).tags == ()


def test_classifier_cache_rebuilds_only_when_the_keywords_change() -> None:
    cache = ClassifierCache([one_hit_rule("ai", "AI")])
    first = cache.get(["반도체", "AI"])
    assert cache.get(("AI", "반도체")) is first
    assert cache.get({"반도체", "AI"}) is first
    second = cache.get(["반도체"])
    assert second is not first
    assert cache.get(["반도체"]) is second
    result = second.classify(item("AI 반도체 수출"))
    assert result.topics == ("ai", PERSONAL_PREFIX + "반도체")
    assert cache.get() is not second and cache.get().classify(item("반도체")).topics == ()


# -- the seed article ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> SeedArticle:
    files = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
    if not files:
        pytest.skip(f"seed article not found in {SEED_DIR} ({WHERE})")
    return load_seed(files[0])


def rss_with_one_item(title: str, description: str, content: str | None = None) -> bytes:
    encoded = f"<content:encoded>{escape(content)}</content:encoded>" if content else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>Seed</title><link>https://news.example/</link><description>seed</description>"
        f"<item><title>{escape(title)}</title><link>https://news.example/seed</link>"
        f"<guid>seed-1</guid><description>{escape(description)}</description>{encoded}</item>"
        "</channel></rss>"
    ).encode()


@pytest.mark.parametrize("variant", ["html-description", "excerpt-and-content", "feature-text"])
def test_the_seed_article_is_ai_policy_finance_and_breaking(
    shipped: Classifier, seed: SeedArticle, variant: str
) -> None:
    description, content = {
        "html-description": (seed.html, None),
        "excerpt-and-content": (seed.excerpt, seed.html),
        "feature-text": (seed.feature_text, None),
    }[variant]
    (feed_item,) = parse_feed(rss_with_one_item(seed.title, description, content)).items
    result = shipped.classify(feed_item)
    assert result.topics == SHIPPED_TOPICS, result
    assert all(tag.reasons for tag in result.tags)


# -- lexicons: the field's own names, programmes by name ----------------------------------------

NAMED = [
    # (title, summary, topic): stories that never write the topic word
    ("딥시크 앱, 개인정보위 조치로 국내 신규 다운로드 중단", "", "ai"),
    ("퍼플렉시티, 5억달러 투자 유치…기업가치 90억달러", "", "ai"),
    ("루닛, 3분기 매출 사상 최대…해외 비중 80%", "", "ai"),
    ("Anthropic releases a new Claude model for coding", "", "ai"),
    ("Sam Altman testifies before the Senate", "", "ai"),
    ("디딤돌대출 금리 0.3%p 인상…다음 달부터", "", "policy-finance"),
    ("소상공인 긴급경영안정자금 2000억원 추가 공급", "", "policy-finance"),
    ("지역신용보증재단, 특례보증 접수 시작", "", "policy-finance"),
    ("Student loan forgiveness plan blocked by appeals court", "", "policy-finance"),
    ("SBA loans to small firms hit a record", "", "policy-finance"),
]


@pytest.mark.parametrize(("title", "summary", "topic"), NAMED)
def test_lexicon_names_tag_stories_that_never_write_the_topic_word(
    shipped: Classifier, title: str, summary: str, topic: str
) -> None:
    assert topic in shipped.classify(item(title, summary)).topics


@pytest.mark.parametrize(
    "title",
    ["Gemini horoscope for Tuesday", "Claude Monet retrospective opens in Paris", "Llama farm"],
)
def test_a_name_that_also_means_something_else_needs_company(
    shipped: Classifier, title: str
) -> None:
    assert "ai" not in shipped.classify(item(title)).topics


def test_two_weak_names_together_tag(shipped: Classifier) -> None:
    assert "ai" in shipped.classify(item("Google Gemini takes on Claude")).topics


MORE_NAMED = [
    # the 2024-26 names of the AI desk, and programmes of the finance desk by name
    ("클로드 코드, 개발자 사이 돌풍", "ai"),
    ("노트북LM, 한국어 음성 요약 지원", "ai"),
    ("포티투마루, 금융권 검색증강생성 수주", "ai"),
    ("엑사원 4.0 공개…추론 성능 끌어올려", "ai"),
    ("퓨리오사AI, 2세대 칩 양산 돌입", "ai"),
    ("Mistral Large tops a European benchmark", "ai"),
    ("새희망홀씨 공급 목표 4조원으로 상향", "policy-finance"),
    ("금융중개지원대출 한도 9조원 증액", "policy-finance"),
    ("주택도시보증공사, 반환보증 가입 요건 강화", "policy-finance"),
    ("미소금융 대출 연체율 상승", "policy-finance"),
    ("EIDL repayment deadline extended for small firms", "policy-finance"),
    ("Export credit agency backs a shipyard's new orders", "policy-finance"),
    ("국책은행, 반도체 기업에 17조 저리 대출", "policy-finance"),
    ("디딤돌·버팀목 금리 0.3%p 인상", "policy-finance"),  # two weak names together
    ("역전세 반환대출 한도 확대", "policy-finance"),
]


@pytest.mark.parametrize(("title", "topic"), MORE_NAMED)
def test_the_field_s_own_names_and_programmes_tag(
    shipped: Classifier, title: str, topic: str
) -> None:
    assert topic in shipped.classify(item(title)).topics


# -- ambiguous names: low weight, counted once, only beside another hit ---------------------------

AMBIGUOUS_ALONE = [
    # (title, summary): an ambiguous name however often it is repeated, and nothing else
    ("클로드 모네 특별전 개막", "클로드 모네의 수련 연작과 클로드 모네 초기작 80점"),
    ("Gemini and Gemini rising: your week ahead", ""),
    ("The copilot of the crashed plane was named", "The copilot had 3,000 hours"),
    ("수은 중독 주의보…하천 조사", "수은 농도가 기준치 넘어"),
    ("캠코, 압류재산 공매 진행", "캠코 온비드 공매"),
]


@pytest.mark.parametrize(("title", "summary"), AMBIGUOUS_ALONE)
def test_an_ambiguous_name_never_tags_alone_however_often_repeated(
    shipped: Classifier, title: str, summary: str
) -> None:
    explanation = shipped.explain(item(title, summary, content=summary))
    assert explanation.classification.topics == ()
    for near in explanation.near_misses:
        assert near.score == 0.0
        assert {h.rule for h in near.hits} <= {ALONE_RULE, "Gemini horoscope"}, near.hits


@pytest.mark.parametrize(
    ("title", "topic"),
    [
        ("Claude tops coding benchmark, Anthropic says", "ai"),  # ambiguous + a lab
        ("코파일럿, 챗GPT 제치고 기업용 1위", "ai"),
        ("수은, 방산 수출에 무역보험 연계 지원", "policy-finance"),  # ambiguous + a programme
        ("캠코, 새출발기금 채무조정 개시", "policy-finance"),
    ],
)
def test_an_ambiguous_name_counts_beside_another_hit(
    shipped: Classifier, title: str, topic: str
) -> None:
    assert topic in shipped.classify(item(title)).topics


def test_an_ambiguous_term_counts_once_per_item() -> None:
    lexicon_rule = TopicRule(
        "t", (), fields=("title",), title_weight=1.0, threshold=1.0, lexicon="ai"
    )
    classifier = Classifier([lexicon_rule])
    (near,) = classifier.explain(item("Grok Grok Grok Grok")).scores
    assert near.score == 0.0 and len(near.hits) == 1
    assert classifier.explain(item("Grok and OpenAI")).scores[0].score == 1.5


def test_a_keyword_of_the_config_is_never_an_ambiguous_term() -> None:
    rule = TopicRule("t", ("Gemini",), fields=("title",), threshold=1.0, lexicon="ai")
    assert Classifier([rule]).classify(item("Gemini 새 버전")).topics == ("t",)


# -- short forms that must stand as words ----------------------------------------------------------

WORD_BOUNDED = [
    # (title, tagged policy-finance): 산은, 신보, 기보, 무보 only as words of their own, a particle
    # after them allowed
    ("산은, 반도체 기업에 저리 대출", True),
    ("산은이 대우조선 지분 매각 추진", True),
    ("신보·기보, 소상공인 특례보증 공급", True),
    ("신보의 보증 공급 5조 확대", True),
    ("무보와 수출기업 지원 협약", True),
    ("부산은행, 지역 중소기업 행사", False),
    ('조선신보 "북, 새 경제계획"', False),
    ("업무보고 일정 확정", False),
    ("투잡이라기보단 부업", False),
    ("캠코더 판매 다시 늘어", False),
    ("전세보증금 못 돌려받은 세입자 늘어", False),
    ("KDB생명 매각 재추진", False),
    ("IBK투자증권 리서치센터장 교체", False),
]


@pytest.mark.parametrize(("title", "tagged"), WORD_BOUNDED)
def test_short_forms_match_only_as_words(shipped: Classifier, title: str, tagged: bool) -> None:
    assert ("policy-finance" in shipped.classify(item(title)).topics) is tagged


def test_a_modifier_rule_may_name_its_separators() -> None:
    lexicon = parse_lexicon(
        "version: 1\n"
        "groups: {names: {weight: 1, terms: [AI]}}\n"
        "context: {modifiers: [{name: list, words: [AI], heads: [바이오], separators: ['·']}]}\n",
        name="t",
    )
    assert lexicon.modifiers[0].separators == ("·",)
    assert [p for _, spelling in lexicon_adjusters("t", lexicon) for p in spelling.phrases()] == [
        "AI·바이오"
    ]


def test_word_boundary_is_a_lexicon_option() -> None:
    lexicon = parse_lexicon(
        "version: 1\n"
        "groups:\n"
        "  short: {weight: 1, boundary: word, terms: [신보]}\n"
        "  long: {weight: 1, terms: [신용보증기금]}\n",
        name="t",
    )
    assert lexicon.word_bounded == frozenset({"신보"})
    assert lexicon.not_alone == frozenset()


# -- context rules: modifiers, negative contexts, machines without AI -----------------------------

NOT_THE_TOPIC = [
    ("AI 데이터센터 전력 수요 급증…변압기 업체 수주 호조", "ai", "AI as a modifier"),
    ("AI PC 출하량 2분기 20% 늘어", "ai", "AI as a modifier"),
    ("Cable maker wins orders for AI data centers", "ai", "AI as a modifier"),
    ("AI 수요에 전력망 비상", "ai", "AI as a modifier"),
    ("배달 로봇 인도 통행 허용…자율주행 로봇 규제 완화", "ai", "autonomy without AI framing"),
    ("[인사] 산업은행", "policy-finance", "personnel, appointment or obituary"),
    (
        "산업은행 신임 회장에 김모 전 차관 임명",
        "policy-finance",
        "personnel, appointment or obituary",
    ),
    ("공적자금 회수율 70% 넘어…산업은행 지원분은 지연", "policy-finance", "recovered public funds"),
    ("기업은행 순이익 1조원 돌파", "policy-finance", "a lender's own earnings"),
    # more of the same classes
    ("AI 반도체 수출 역대 최대…11개월 연속 증가", "ai", "AI chips as trade or market figures"),
    ("Korean exports climb on AI chip demand", "ai", "AI chips as trade or market figures"),
    ("AI·데이터센터 전력 수요에 변압기 품귀", "ai", "AI as a modifier"),
    ("AI 탑재 냉장고 신제품 출시", "ai", "AI as a modifier"),
    ("AI 훈풍에 코스피 사상 최고", "ai", "AI as a modifier"),
    ("Utilities rally as AI power demand soars", "ai", "AI as a modifier"),
    ("산란계 농장서 AI 의심 신고…이동중지 명령", "ai", "avian influenza"),
    ("철새 AI 확산에 방역 비상", "ai", "avian influenza"),
    ("자율주행 셔틀 노선 확대…시범운행지구 추가 지정", "ai", "autonomy without AI framing"),
    ("기업은행 3분기 순이익 7000억원", "policy-finance", "a lender's own earnings"),
    ("산은 직원 봉사활동", "policy-finance", "policy bank as a company"),
    ("신보 이사장에 전직 차관", "policy-finance", "personnel, appointment or obituary"),
    (
        "정부지원 저금리 대출 미끼로 보이스피싱",
        "policy-finance",
        "scam impersonating a policy loan",
    ),
    ("대환대출 플랫폼 이용자 100만 돌파", "policy-finance", "refinancing platform"),
    ("가수 신보 발매…타이틀곡 공개", "policy-finance", "new album or go game record"),
    ("정부, AI·반도체·바이오 첨단산업에 5조 투자", "ai", "AI in a list of industries"),
    ("반도체·AI 인재 10만명 양성", "ai", "AI in a list of industries"),
    ("국책은행 부산 이전 논란 재점화", "policy-finance", "policy bank as a company"),
    ("정책금융기관 지방 이전 논란", "policy-finance", "policy bank as a company"),
    ("Data center power demand from AI strains the grid", "ai", "AI as what drives demand"),
    ("Cooling makers see orders surge from the boom in AI", "ai", "AI as what drives demand"),
]


@pytest.mark.parametrize(
    "title",
    [
        "미국, 중국향 AI칩 수출 통제 강화",  # export controls on AI chips stay the topic
        "오픈AI, AI 데이터센터 스타게이트 착공",  # a lab beside a vetoed modifier
        "AI 모델이 신약 후보 찾아",
        "AI 반도체 스타트업, 국산 NPU 양산",  # a space is not a list's dot
        "오픈AI 데이터센터 착공",  # the modifier begins inside the lab's name: the lab still counts
    ],
)
def test_a_modifier_rule_leaves_the_topic_itself_alone(shipped: Classifier, title: str) -> None:
    assert "ai" in shipped.classify(item(title)).topics


@pytest.mark.parametrize(("title", "topic", "rule"), NOT_THE_TOPIC)
def test_context_rules_veto_and_say_which_rule(
    shipped: Classifier, title: str, topic: str, rule: str
) -> None:
    result = shipped.classify(item(title))
    assert topic not in result.topics
    assert any(v.exclusion.startswith(rule) for v in result.vetoes), result.vetoes


def test_a_modifier_only_cancels_the_hit_it_overlaps(shipped: Classifier) -> None:
    result = shipped.classify(item("오픈AI, AI 데이터센터 '스타게이트' 착공"))
    assert "ai" in result.topics
    assert Veto("AI", "AI as a modifier: AI + 데이터센터", "title") in result.vetoes


def test_a_lexicon_rule_may_lower_instead_of_veto() -> None:
    lexicon = parse_lexicon(
        "version: 1\n"
        "groups: {names: {weight: 1, terms: [AI]}}\n"
        "context: {modifiers: [{name: half, factor: 0.5, words: [AI], heads: [수요]}]}\n",
        name="t",
    )
    assert lexicon.modifiers[0].factor == 0.5 and lexicon.terms == (("AI", 1.0),)


def test_explain_lists_near_misses_with_their_hits(shipped: Classifier) -> None:
    explanation = shipped.explain(item("연구실 세미나", "딥러닝 특강"))
    assert explanation.classification.topics == ()
    (near,) = explanation.near_misses
    assert near.topic == "ai" and near.score == 1.0 and near.threshold == 2.0
    assert [(h.phrase, h.field, h.points) for h in near.hits] == [("딥러닝", "lead", 1.0)]


def test_explain_shows_an_ambiguous_name_waiting_for_company(shipped: Classifier) -> None:
    (near,) = shipped.explain(item("Gemini 새 버전 출시")).near_misses
    assert near.topic == "ai" and near.score == 0.0
    assert [(h.phrase, h.points, h.rule) for h in near.hits] == [("Gemini", 0.0, ALONE_RULE)]


def test_explain_shows_vetoed_hits_as_near_misses(shipped: Classifier) -> None:
    (near,) = shipped.explain(item("AI PC 출하량 늘어")).near_misses
    assert near.topic == "ai" and near.score == 0.0
    assert near.hits[0].rule == "AI as a modifier: AI + PC"


def test_explain_agrees_with_classify(shipped: Classifier) -> None:
    sample = item("[속보] 오픈AI, 챗GPT 새 모델 공개", "산업은행이 AI 반도체에 정책자금을 푼다")
    assert shipped.explain(sample).classification == shipped.classify(sample)


# -- lexicon files ------------------------------------------------------------------------------


def test_every_shipped_lexicon_loads_and_every_shipped_topic_uses_one() -> None:
    assert lexicon_names() >= {"ai", "policy-finance", "breaking"}
    for name in lexicon_names():
        assert load_lexicon(name).terms, name
    topics = load_config(REPO / "subscriptions.yaml").config.topics
    assert {t.lexicon for t in topics.values()} == {"ai", "policy-finance", "breaking"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: {}", "version: 1"),
        ("version: 1\ngroups: {a: {weight: -1, terms: [x]}}", "groups.a.weight"),
        ("version: 1\ngroups: {a: {terms: ['']}}", "groups.a.terms"),
        ("version: 1\ncontext: {negative: [{scope: body, phrases: [x]}]}", "scope"),
        ("version: 1\ncontext: {modifiers: [{factor: 2, words: [a], heads: [b]}]}", "factor"),
        ("version: 1\ngroups: {a: {boundary: space, terms: [x]}}", "groups.a.boundary"),
        ("version: 1\ngroups: {a: {alone: 'no', terms: [x]}}", "groups.a.alone"),
        (
            "version: 1\ncontext: {modifiers: [{words: [a], heads: [b], separators: x}]}",
            "separators",
        ),
    ],
)
def test_a_malformed_lexicon_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(text, name="bad")


def test_a_topic_naming_an_unknown_lexicon_is_refused() -> None:
    text = "version: 1\ntopics:\n  x:\n    keywords: [a]\n    lexicon: nope\n"
    with pytest.raises(ConfigError, match="unknown lexicon 'nope'"):
        parse_config(text)


@pytest.mark.parametrize("name", sorted(lexicon_names()))
def test_context_phrase_keys_are_the_phrases_normalised(name: str) -> None:
    """The build joins normalised words and heads instead of normalising 20,000 phrases."""
    table = _Table()
    for _, spelling in lexicon_adjusters("t", load_lexicon(name)):
        assert table._keys(spelling) == [normalize(p) for p in spelling.phrases()]


@pytest.mark.parametrize(
    ("word", "separator", "head"),
    [
        ("AI ", "", "PC"),  # a space at an edge: normalised away, not joined in
        ("AI", " ", "  데이터  센터"),
        ("가", "", "\u11a8"),  # a syllable and a trailing jamo compose into 각
        ("cafe", "", "\u0301 Paris"),  # e + combining acute: é
        ("Ｆｕｌｌ", "·", "ｗｉｄｔｈ"),  # compatibility forms
        ("STRASSE", "-", "Straße"),
    ],
)
def test_joined_keys_match_the_normalised_phrase_where_unicode_joins_parts(
    word: str, separator: str, head: str
) -> None:
    spelling = Spelling(word, (separator,), head)
    assert _Table()._keys(spelling) == [normalize(word + separator + head)]


def test_a_summary_is_read_up_to_its_field_limit() -> None:
    """A broken feed's megabyte of summary is read no further than a long article (its hits and
    exceptions cost their product): a keyword past the limit tags nothing."""
    filler = "가" * FIELD_CHARS
    assert not AI.classify(item("x", filler + " AI")).topics
    assert AI.classify(item("x", filler[:-10] + " AI")).topics == ("ai",)
