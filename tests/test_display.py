"""Numbers as the book's prose and tables write them."""
from scalinglaws.display import sci, sig


def test_sci_writes_powers_of_ten_and_leaves_plain_numbers_plain():
    assert sci(1.67e4) == "1.7×10⁴"
    assert sci(3.06e11, 3) == "3.06×10¹¹"
    assert sci(2.0e-9) == "2.0×10⁻⁹"
    assert sci(1.63) == "1.6" and sci(250.0) == "250" and sci(12.3) == "12" and sci(0.05) == "0.05"
    assert sci(float("nan")) == "—" and sci(0) == "0"


def test_sig_keeps_a_few_digits_with_separators():
    assert sig(793_456.0) == "793,000" and sig(0.004123) == "0.00412" and sig(5.071) == "5.07"


def test_run_ids_may_wrap_at_underscores_without_changing_the_text():
    from scalinglaws.display import breakable
    assert breakable("L2-d128_D2800k_e2") == "L2-d128_<wbr>D2800k_<wbr>e2"
    assert breakable("L2-d8") == "L2-d8"


def test_an_empty_table_is_a_sentence_and_missing_columns_are_not_formatted():
    import pandas as pd
    from scalinglaws.display import show
    assert "nothing fitted" in show(pd.DataFrame(), empty="nothing fitted", **{"a": "{:.2f}"})._repr_markdown_()
    html = show(pd.DataFrame({"a": [1.234]}), **{"a": "{:.2f}", "b": "{:.1f}"}).to_html()
    assert "1.23" in html
