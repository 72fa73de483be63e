from tongban.accounts.masking import mask_id_number, mask_phone


def test_id_number_keeps_first_and_last_four() -> None:
    assert mask_id_number("620102199001011233") == "6201**********1233"


def test_phone_keeps_first_three_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_short_or_empty_values_are_fully_masked() -> None:
    assert mask_phone("1234567") == "*******"
    assert mask_id_number("") == ""
