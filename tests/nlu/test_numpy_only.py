"""A trained model answers with numpy alone: the same features and scores as scikit-learn and SciPy give,
and a service that loads it never imports them (issue 17: memory and start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu import BuiltinNLU, normalize
from bot.nlu.data import load_training_data
from bot.nlu.features import WORD, CharNgramsInWords, Features, WordNgrams
from bot.settings import ROOT

ODD = ["", " ", "a", "ab", "abcd", "a  b\t\tc\n d", "xin chào!!!", "😢😢", "ck   dang  danh e", "ok.ok,ok"]


@pytest.fixture(scope="module")
def texts(knowledge_dir: Path) -> list[str]:
    data = load_training_data(knowledge_dir)
    raw = [text for article in data.articles for text in (*article.examples, *article.titles)]
    raw += [text for _, text in data.emergency.emergency] + list(data.emergency.not_emergency)
    return [normalize(text) for text in raw] + ODD


def test_the_analyzers_are_scikit_learns(texts: list[str]) -> None:
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False).build_analyzer()
    word = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), lowercase=False, token_pattern=WORD
    ).build_analyzer()
    ours_char, ours_word = CharNgramsInWords(2, 5), WordNgrams(1, 2)
    assert len(texts) > 1000
    for text in texts:
        assert ours_char(text) == char(text), text
        assert sorted(ours_word(text)) == sorted(word(text)), text


def test_the_features_are_scikit_learns(texts: list[str]) -> None:
    """Our TF-IDF rows (a word table, one count for both blocks) equal scikit-learn's, block by block,
    for words seen in fitting and for words never seen."""
    fitted = texts[:2000]
    ours = Features(fitted)
    blocks = [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False, sublinear_tf=True),
        TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), lowercase=False, token_pattern=WORD, sublinear_tf=True
        ),
    ]
    expected = sp.hstack([vectorizer.fit(fitted).transform(texts) for vectorizer in blocks]).tocsr()
    got = ours.transform(texts)
    assert got.shape == expected.shape
    assert abs(got - expected).max() < 1e-12


def test_the_matcher_scores_as_scipy_would(model: BuiltinNLU, knowledge_dir: Path, texts: list[str]) -> None:
    """The nearest-example similarities (dense rows for common features, lists for the others) are the
    products of the examples' TF-IDF rows with the message's, as SciPy computes them."""
    matcher = model.matcher
    examples = [
        normalize(text)
        for article in load_training_data(knowledge_dir).articles
        for text in (*article.examples, *article.titles)
    ]
    matrix = model.features.transform([text for text in examples if text])  # examples x features
    assert matrix.shape[0] == len(matcher._owners)
    assert 0 < len(matcher._dense) < matrix.shape[1], "common features dense, the others not"
    for text in texts[::7]:
        indices, values = model.features.one(text)
        expected = np.asarray(matrix[:, indices] @ values).ravel()
        assert np.allclose(matcher.similarity(indices, values), expected, rtol=0, atol=1e-12), text


def test_the_matchers_best_articles_are_the_first_of_its_scores(model: BuiltinNLU, texts: list[str]) -> None:
    """``match`` ranks only the articles that can come first; the same as ranking them all with
    ``scores`` (rounded, ties in order), merged over a message's sentences (each article's best)."""
    matcher = model.matcher

    def reference(text: str, topic: str | None, parts: list[str]) -> tuple[object, bool]:
        ranked = matcher.scores(text, topic)
        if parts:
            by_article = dict(ranked)
            for part in parts:
                for article_id, score in matcher.scores(part, topic):
                    by_article[article_id] = max(score, by_article.get(article_id, score))
            ranked = sorted(by_article.items(), key=lambda item: -item[1])
        best = tuple(item for item in ranked[:3] if item[1] >= matcher.threshold)
        return best, matcher.confident(ranked)

    topics = [None, "drugs", "law", "hiv"]
    for n, text in enumerate(texts[::3]):
        parts = [texts[(n * 11) % len(texts)], texts[(n * 17) % len(texts)]] if n % 4 == 0 else []
        topic = topics[n % len(topics)]
        assert matcher.match(text, topic, parts=parts) == reference(text, topic, parts), text


LOAD = """
import json, sys
from pathlib import Path
from bot.nlu import build_builtin
model = build_builtin(Path(sys.argv[1]), model_dir=Path(sys.argv[2]))
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "scipy"})
print(json.dumps({"heavy": heavy, "topic": model.topics.predict("xet nghiem hiv o dau")[0]}))
"""


def test_a_trained_model_loads_without_scikit_learn_or_scipy(knowledge_dir: Path, tmp_path: Path) -> None:
    def run() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", LOAD, str(knowledge_dir), str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    trained = run()  # no file yet: trains (and imports scikit-learn to do it), then keeps the model
    assert trained["topic"] == "hiv_sti"
    loaded = run()  # the kept file: numpy alone
    assert loaded == {"heavy": [], "topic": "hiv_sti"}


SERVE = """
import json, sys
from bot.settings import Settings
from bot.web.app import create_app
create_app(Settings(_env_file=None, env="test", database_url="sqlite+aiosqlite:///" + sys.argv[1],
                    secret_key="s" * 40, model_dir=sys.argv[2]))
heavy = {"sklearn", "scipy", "matplotlib", "openpyxl", "aiogram", "twilio"}
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & heavy)))
"""


def test_the_web_chat_alone_serves_without_the_heavy_libraries(
    model: BuiltinNLU, knowledge_dir: Path, tmp_path: Path
) -> None:
    """Training, reports and the other channels import what they need when they are used or switched on."""
    models = knowledge_dir.parent / "var" / "models"  # where the `model` fixture kept it
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(tmp_path / "hotline.db"), str(models)],
        env={k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},  # no channel switched on
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
