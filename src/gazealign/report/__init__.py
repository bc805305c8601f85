"""The study's figures and its self-contained HTML report.

* :mod:`~gazealign.report.figures`: pure figure functions over tidy tables and arrays;
* :mod:`~gazealign.report.summary`: the plain-language findings, from the numbers;
* :mod:`~gazealign.report.inputs`: reading a run's artifacts, tolerating absent parts;
* :mod:`~gazealign.report.html`: the single-file HTML page and what its sections share;
* :mod:`~gazealign.report.sections`: the page's sections, one registered render function each;
* :mod:`~gazealign.report.build`: all of it for a run (the ``report`` stage, ``gazealign report``).
"""

from gazealign.report.build import report_from_run, write_report

__all__ = ["report_from_run", "write_report"]
