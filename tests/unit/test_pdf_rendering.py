"""core.pdf: WeasyPrint renders with the cycle collector paused, and puts it back as it was,
whether the rendering succeeds or fails."""
import gc
import io

import pypdf
import pytest

from trainer.core import pdf


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_collector_is_paused_during_a_rendering_and_back_on_after(monkeypatch):
    seen = []
    weasyprint, fonts, fetcher = pdf._weasyprint()
    real = weasyprint.HTML.write_pdf

    def spy(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", spy)
    assert gc.isenabled()
    data = pdf.render("<html lang='zh-CN'><body><p>培训档案 王伟</p></body></html>")
    assert seen == [False]
    assert gc.isenabled()
    assert "培训档案" in _text(data)


def test_a_failed_rendering_turns_the_collector_back_on(monkeypatch):
    weasyprint, _fonts, _fetcher = pdf._weasyprint()

    def broken(self, *args, **kwargs):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(RuntimeError):
        pdf.render("<p>x</p>")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        pdf.render("<p>x</p>")
        assert not gc.isenabled()
    finally:
        gc.enable()
