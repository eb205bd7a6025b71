"""One story, one alert: group items from many outlets that report the same event.

`features` turns an item's title and lead into `StoryFeatures`; `same_story` decides a pair;
`StoryIndex` remembers the stories of the last window and finds an item's story without comparing it
to every story; `group` runs the same index over a finished list of items.
"""

from bot.stories.decide import Verdict, explain, same_story
from bot.stories.features import StoryFeatures, features
from bot.stories.group import StoryInput, group
from bot.stories.index import DEFAULT_WINDOW_SECONDS, StoryIndex

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "StoryFeatures",
    "StoryIndex",
    "StoryInput",
    "Verdict",
    "explain",
    "features",
    "group",
    "same_story",
]
