"""What an item contributes to story matching: `StoryFeatures`, built once per item, stored as JSON.

The store persists `to_json()` so that the index can be rebuilt after a restart without the item
text; everything derived (n-grams) is recomputed from the stored strings on demand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bot.stories.figures import dates, numbers, spell_figures, updates_toll
from bot.stories.normalize import clean_lead, clean_title, compact, names, reclean, tickers
from bot.stories.outcomes import decisions, direction
from bot.stories.places import leading_place
from bot.stories.subjects import quoted, spelled_out, subject
from bot.stories.tokens import Language, language, ngrams, unspaced

LEAD_CHARS = 200
"""Characters of the body kept as the lead: outlets rewrite headlines but often share the lead."""
TITLE_CHARS = 300
"""Characters of the headline read: more than any outlet's headline, so that a broken feed's item
with a whole article for its title is read (and stored) no longer than a headline is."""
FORMAT = 9
"""9: a company name's last word as its Hanja abbreviation (`삼성電`) spelled out (`삼성전자`). 8: a
term and its Latin acronym in one wording (`인공지능` as `ai`, `국내총생산` as `gdp`), and crypto
assets by one name; dotted capitals as one word (`U.S.` as `us`, not lost); `percent` is `%`, an
English count (`2 million cars`) is a figure and `3 billion pounds` is money as `£3bn` is, while `3
pm` and `3 times` hold no figure (they read `3p`, `3t`); an English headline's model names (`GPT-5`,
`o3-mini`) are its quoted terms; a headline opening with a list (`로봇, 자율주행, …`) has no
subject. 7: figures with 조, 억, 만 or 천 in one spelling (`3.5조` as `3조5000억`). 6: the names of
text in an alphabetic script are its words that are no function word. 5: the terms the headline
quotes; a decade (`1300원대`) as a range of its own. 4: counts in words, court-style months and
results shorthand in `canonical` wording too; tickers only of names in the headline. 3: title and
lead in `canonical` wording and the headline's subject. 2: no MinHash signature (the index searches
by rare tokens). Every older format is still read: its title and lead are put in this wording (and
its figures spelled so), its names recomputed from them; figures, tickers and subject stay as
stored, and what an older format lacks (the subject of 1 and 2, the quoted terms of 1 to 4) is
unknown, never a reason to split."""


@dataclass(frozen=True)
class StoryFeatures:
    """The normalised parts of one item that decide whether it is the same story as another."""

    title: str
    """Headline, NFKC-folded, without [속보]/[단독]/(종합) labels, quotes and punctuation."""
    lead: str
    """First LEAD_CHARS characters of the body without wire byline and photo credits, folded."""
    numbers: frozenset[str]
    """Numbers with units from title and lead, value-normalised (`8만2002명` -> `82002명`)."""
    names: frozenset[str]
    """Name-like words of the title (people, companies, agencies, key nouns)."""
    lead_names: frozenset[str]
    """Name-like words of the lead."""
    tickers: frozenset[str]
    """Stock tickers in parentheses: different tickers are different companies."""
    subject: str = ""
    """The headline's leading subject (`이재명, …`, `윤희숙 “…”`), "" if it has none."""
    quoted: tuple[str, ...] = ()
    """The terms the headline sets off in single quotes or title marks (`‘별이되어라’`)."""

    @property
    def search_tokens(self) -> frozenset[str]:
        """What `StoryIndex` looks items up by: title bigrams, names of title and lead, figures.

        The index weighs each by its rarity in the window, so common bigrams cost little and find
        little. (A two-syllable name and the same bigram are one token, rightly.)
        """
        return self.title_grams | self.names | self.lead_names | self.numbers

    @property
    def headline_tokens(self) -> frozenset[str]:
        """The search tokens every item has whatever its lead: the headline's bigrams and names."""
        return self.title_grams | self.names

    @cached_property
    def title_grams(self) -> frozenset[str]:
        if self.alphabetic:
            return ngrams(spelled_out(self.title), 2, words=self.language)
        return ngrams(self.title, 2)

    @cached_property
    def lead_grams(self) -> frozenset[str]:
        return ngrams(self.lead, 3, words=self.language if self.alphabetic else None)

    @cached_property
    def lead_bigrams(self) -> frozenset[str]:
        if self.alphabetic:  # compared by words, whatever the n: the lead's words once
            return self.lead_grams
        return ngrams(self.lead, 2)

    @cached_property
    def language(self) -> Language:
        """The language of an alphabetic item (asked of those only: a Korean item caches none)."""
        return language(f"{self.title} {self.lead}")

    @cached_property
    def compact_text(self) -> str:
        """Title and lead without spaces, for substring tests of names."""
        return compact(self.title) + " " + compact(self.lead)

    @cached_property
    def spaced_text(self) -> str:
        """Title and lead between spaces, for whole-word tests of names."""
        return f" {self.title} {self.lead} "

    @property
    def alphabetic(self) -> bool:
        """Whether the item is written in an alphabetic script (not Korean, Chinese, Japanese).
        Not cached: for a Korean item the search stops at the first syllable, and one more cached
        value per item grows every remembered item's attribute table."""
        return not (unspaced(self.title) or unspaced(self.lead))

    def mentions(self, name: str) -> bool:
        """Whether title or lead name `name`: as whole words in an alphabetic item (`art` is not in
        `start`), in any spacing in a Korean one (`4개월 연속`, `4개월연속`)."""
        if self.alphabetic:
            return f" {name} " in self.spaced_text
        return compact(name) in self.compact_text

    @cached_property
    def title_numbers(self) -> frozenset[str]:
        return numbers(self.title)

    @cached_property
    def title_dates(self) -> frozenset[str]:
        return dates(self.title)

    @cached_property
    def title_direction(self) -> str:
        return direction(self.title)

    @cached_property
    def title_decisions(self) -> dict[str, frozenset[str]]:
        return decisions(self.title)

    @cached_property
    def title_updates_toll(self) -> bool:
        return updates_toll(self.title)

    @cached_property
    def place(self) -> str:
        """The place the headline opens with (`부산 아파트 화재…`), "" if none."""
        return leading_place(self.title)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict; `from_json` turns it back into an equal value."""
        return {
            "v": FORMAT,
            "title": self.title,
            "lead": self.lead,
            "numbers": sorted(self.numbers),
            "names": sorted(self.names),
            "lead_names": sorted(self.lead_names),
            "tickers": sorted(self.tickers),
            "subject": self.subject,
            "quoted": list(self.quoted),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoryFeatures:
        """The value `to_json` wrote; older formats are brought to this one's wording (FORMAT).

        Raises ValueError for an unknown format, so that the caller recomputes from the text.
        """
        version = data.get("v")
        if not isinstance(version, int) or not 1 <= version <= FORMAT:
            raise ValueError(f"stories: unknown features format {version!r}")
        title, lead = str(data["title"]), str(data["lead"])
        older = version != FORMAT
        if older:
            title, lead = spell_figures(reclean(title)), spell_figures(reclean(lead))
        return cls(
            title=title,
            lead=lead,
            numbers=frozenset(data["numbers"]),
            names=names(title) if older else frozenset(data["names"]),
            lead_names=names(lead) if older else frozenset(data["lead_names"]),
            tickers=frozenset(data["tickers"]),
            subject=str(data.get("subject", "")) if version >= 3 else "",
            quoted=tuple(str(term) for term in data.get("quoted", ())),
        )


def features(title: str, text: str) -> StoryFeatures:
    """Features of one item from its plain-text title and body (summary or content)."""
    title = title[:TITLE_CHARS]
    clean = spell_figures(clean_title(title))
    lead = spell_figures(clean_lead(text, LEAD_CHARS))
    nums = numbers(title) | numbers(text[: LEAD_CHARS + 80])
    return StoryFeatures(
        title=clean,
        lead=lead,
        numbers=nums,
        names=names(clean),
        lead_names=names(lead),
        tickers=tickers(title, title) | tickers(text[: LEAD_CHARS + 80], title),
        subject=subject(title, text[: LEAD_CHARS + 80]),
        quoted=quoted(title),
    )
