"""The served PD term structure: the hazard model's curve joined to the 12-month model's PD.

The PD within 12 months stays the champion's (the master-scale grade's, gated and
back-tested, explained by its reasons); the hazard model (:mod:`models.hazard`) gives its
timing. Measured on the default book's test window, the hazard's own curve ranks the near
months better than the curve anchored to the champion, and the champion ranks 12 months
better than the hazard's own ``F(12)``: :func:`served_curve` keeps the better of each
(README "PD term structure").
"""

from __future__ import annotations

import numpy as np


def anchored(cumulative: np.ndarray, pd_last: np.ndarray) -> np.ndarray:
    """The curve ``cumulative`` rescaled to end at ``pd_last``: ``pd_last x F(k) / F(H)``.

    Non-decreasing in ``k`` where ``cumulative`` is; a row whose ``F(H)`` is 0 spreads
    ``pd_last`` evenly over the months.
    """
    cumulative = np.asarray(cumulative, float)
    last = cumulative[:, -1:]
    even = np.arange(1, cumulative.shape[1] + 1) / cumulative.shape[1]
    share = np.divide(cumulative, last, out=np.broadcast_to(even, cumulative.shape).copy(),
                      where=last > 0)  # fmt: skip
    return np.asarray(pd_last, float)[:, None] * share


def served_curve(cumulative: np.ndarray, pd_last: np.ndarray) -> np.ndarray:
    """The served PD within 1..H months: the hazard's own near, the 12-month model's far.

    ``pd_k = F(k) x (pd_last / F(H)) ** ((k - 1) / (H - 1))``: the hazard model's own PD within
    one month, moved step by step onto the :func:`anchored` curve, which it reaches at ``H``
    (a log-linear blend of the two). Then made non-decreasing (running maximum), never above
    ``pd_last``, and equal to it at ``H``. The hazard model ranks the near months better than
    the 12-month model's PD does (it learns the near months on their own), the 12-month model
    ranks its own horizon better and is the one gated and back-tested (README "PD term
    structure").
    """
    cumulative = np.asarray(cumulative, float)
    pd_last = np.asarray(pd_last, float)
    horizon = cumulative.shape[1]
    if horizon == 1:
        return pd_last[:, None].copy()
    share = np.arange(horizon) / (horizon - 1)  # 0 at one month, 1 at the horizon
    curve = cumulative ** (1 - share) * anchored(cumulative, pd_last) ** share
    curve = np.maximum.accumulate(np.minimum(curve, pd_last[:, None]), axis=1)
    curve[:, -1] = pd_last
    return curve
