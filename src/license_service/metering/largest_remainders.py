"""Sharing a whole number in proportion to weights, by largest remainders (SPEC 9).

When a node's charged millicores exceed its CPU, the capped value is shared among the
node's rows in proportion to what each charged: every row gets the whole part of its
exact share, and the millicores left over go one each to the rows with the largest
fractional remainders. The shares add up exactly to the total, and no share exceeds
its weight when the total does not exceed the sum of the weights. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder_shares(total: int, weights: Sequence[int]) -> list[int]:
    """Share ``total`` among ``weights`` in proportion, in whole units; pure.

    Ties between equal remainders go to the earlier weight, so the result depends only
    on the order given. ``ValueError`` for a negative number, or a positive ``total``
    with nothing to weigh it by.
    """
    if total < 0 or any(weight < 0 for weight in weights):
        raise ValueError(f"cannot share {total} among {list(weights)}: negative numbers")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError(f"cannot share {total} among weights that add up to 0")
        return [0] * len(weights)
    shares = []
    remainders = []
    for index, weight in enumerate(weights):
        whole, remainder = divmod(total * weight, weight_sum)
        shares.append(whole)
        remainders.append((-remainder, index))
    left = total - sum(shares)
    # left < len(weights): each whole part is short of its exact share by less than 1.
    for _, index in sorted(remainders)[:left]:
        shares[index] += 1
    return shares
