"""Masking by kind, edge cases included, and the logging filter."""

import io
import logging

import pytest

from civicgrid.pii.masking import PIIMaskingFilter, mask, mask_text


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("11010519491231002x", "110105********002X"),
        ("110105 1949 1231 002X", "110105********002X"),
        ("110105491231002", "110105*****1002"),  # an old 15-digit number keeps the same shape
        ("1101051949", "**********"),  # too short to keep 6 + 4 and hide anything
        ("1", "*"),
    ],
)
def test_it_masks_id_numbers_keeping_the_first_6_and_last_4(value, masked):
    assert mask(value, "id_number") == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138-0013-8000", "138****8000"),
        ("02584561234", "025****1234"),
        ("84561234", "****1234"),  # local fixed line: only the last four
        ("0258456123456", "025******3456"),
        ("1234567", "*******"),
        ("12", "**"),
    ],
)
def test_it_masks_phone_numbers_as_3_stars_4(value, masked):
    assert mask(value, "phone") == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳修", "欧**"),
        ("欧阳娜娜", "欧***"),
        ("李", "*"),
        (" 王五 ", "王*"),
    ],
)
def test_it_masks_names_keeping_only_the_first_character(value, masked):
    assert mask(value, "name") == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("江苏省南京市玄武区湖南路123号5栋301室", "江苏省南京市玄武区湖南路****"),
        ("玄武区锁金村街道锁金新村二十三栋", "玄武区锁金村街道锁金新村****"),
        ("玄武区三元巷１２号", "玄武区三元巷****"),
        ("南京市玄武区某某花园小区", "南京市玄武区****"),  # no house number: the first 6 characters
        ("玄武区某某花园", "玄武区****"),  # … but never half of the address
        ("12号楼", "****"),  # nothing comes before the house number
        ("家", "****"),
    ],
)
def test_it_masks_addresses_from_the_house_number_on(value, masked):
    assert mask(value, "address") == masked


def test_it_masks_tags_without_even_their_count():
    assert mask("社区矫正,低保", "tags") == "***"
    assert mask("精神障碍", "tags") == "***"


@pytest.mark.parametrize("kind", ["id_number", "phone", "name", "address", "tags"])
def test_it_gives_empty_for_empty_values(kind):
    assert mask("", kind) == ""
    assert mask(None, kind) == ""


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        mask("x", "passport")


def test_it_masks_numbers_inside_free_text():
    text = "居民 11010519491231002X 电话 +86 138-0013-8000、13912345678，工单号 2024123112345678901"
    assert mask_text(text) == (
        "居民 110105********002X 电话 138****8000、139****5678，工单号 2024123112345678901"
    )


def _logger_with_filter():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PIIMaskingFilter())
    logger = logging.getLogger("tests.pii.masking")
    logger.handlers[:] = [handler]
    logger.propagate = False
    return logger, stream


def test_it_masks_log_messages_and_their_arguments():
    logger, stream = _logger_with_filter()
    logger.warning("lookup of %s by phone %s failed", "11010519491231002X", "13800138000")
    logger.warning("child logger sees it too")
    assert stream.getvalue().splitlines() == [
        "lookup of 110105********002X by phone 138****8000 failed",
        "child logger sees it too",
    ]


def test_it_masks_tracebacks_in_logs():
    logger, stream = _logger_with_filter()
    try:
        raise ValueError("bad phone 13800138000")
    except ValueError:
        logger.exception("import failed for 11010519491231002X")
    output = stream.getvalue()
    assert "13800138000" not in output and "11010519491231002X" not in output
    assert "138****8000" in output and "110105********002X" in output
    assert "Traceback" in output


def test_it_leaves_records_it_cannot_format_to_logging():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("not a number",), None)
    assert PIIMaskingFilter().filter(record) is True
