"""The served PD term structure (models.term_curve)."""

import numpy as np

from models.term_curve import anchored, served_curve


def test_anchored_curve_ends_at_the_given_pd_and_keeps_the_shape():
    curve = np.array([[0.01, 0.02, 0.04], [0.0, 0.0, 0.0], [0.1, 0.1, 0.2]])
    out = anchored(curve, np.array([0.08, 0.03, 0.2]))
    np.testing.assert_allclose(out[:, -1], [0.08, 0.03, 0.2])
    np.testing.assert_allclose(out[0], [0.02, 0.04, 0.08])
    np.testing.assert_allclose(out[1], [0.01, 0.02, 0.03])  # no shape: spread evenly
    assert (np.diff(out, axis=1) >= 0).all()


def test_served_curve_starts_from_the_hazard_and_ends_at_the_12_month_pd():
    own = np.array([[0.01, 0.02, 0.04], [0.0, 0.0, 0.0], [0.1, 0.1, 0.2], [0.05, 0.06, 0.1]])
    pd_last = np.array([0.08, 0.03, 0.2, 0.01])
    out = served_curve(own, pd_last)
    np.testing.assert_allclose(out[:, -1], pd_last)
    # the hazard's own at one month, the log-linear middle, the anchored curve at the end
    np.testing.assert_allclose(out[0], [0.01, 0.02 * (0.08 / 0.04) ** 0.5, 0.08])
    np.testing.assert_allclose(out[2], own[2])  # the hazard agrees with the 12-month PD
    np.testing.assert_allclose(out[1], [0.0, 0.0, 0.03])  # no shape: nothing before the end
    np.testing.assert_allclose(out[3], [0.01, 0.01, 0.01])  # never above the 12-month PD
    assert (np.diff(out, axis=1) >= 0).all()
