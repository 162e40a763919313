from platform_common.stores import in_chunks


def test_in_chunks_lists_every_value_once_in_order_within_the_size():
    values = [f"id-{n}" for n in range(123)]
    chunks = list(in_chunks(values, size=50))
    assert [len(chunk) for chunk in chunks] == [50, 50, 23]
    assert [v for chunk in chunks for v in chunk] == values
    assert list(in_chunks([])) == []
