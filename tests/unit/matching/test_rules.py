"""The matching rules as users see them: who matches whom, and why (rules.py)."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest

from services.matching.engine import rules
from services.matching.engine.model import Item, TenantInfo, Weights, utc

from .factories import directory, explain, need, offer, reason, score


# ------------------------------------------------------------------ hard constraints


class TestDistance:
    def test_an_offer_30_km_away_with_radius_10_does_not_match(self):
        assert score(offer(radius_km=10), need(km_north=30, radius_km=50)) is None

    def test_an_offer_5_km_away_within_both_radii_matches(self):
        assert score(offer(radius_km=10), need(km_north=5, radius_km=10)) is not None

    def test_the_smaller_of_both_radii_applies(self):
        assert score(offer(radius_km=50), need(km_east=15, radius_km=10)) is None
        assert score(offer(radius_km=10), need(km_east=15, radius_km=50)) is None
        assert score(offer(radius_km=16), need(km_east=15, radius_km=16)) is not None

    def test_remote_on_either_side_ignores_the_distance(self):
        far_need = need(km_north=150, radius_km=2)
        assert score(offer(radius_km=2, remote=True), far_need) is not None
        assert score(offer(radius_km=2), need(km_north=150, radius_km=2, remote=True)) is not None


class TestBasics:
    def test_an_offer_never_matches_an_offer(self):
        assert score(offer("a"), offer("b")) is None
        assert score(need("a"), need("b")) is None

    def test_the_same_actor_does_not_match_itself(self):
        assert score(offer(actor_id="verein-1"), need(actor_id="verein-1")) is None

    def test_no_capacity_left_means_no_match(self):
        assert score(offer(capacity_left=0), need()) is None
        assert score(offer(), need(capacity_left=0)) is None

    def test_score_is_symmetric_in_argument_order(self):
        o, n = rules.prepare(offer()), rules.prepare(need(km_east=3))
        tenants = directory()
        assert rules.score(o, n, tenants) == rules.score(n, o, tenants)
        assert rules.explain(o, n, tenants) == rules.explain(n, o, tenants)


class TestCategoriesAndRequirements:
    def test_without_a_common_field_there_is_no_match(self):
        assert score(offer(categories={"sport"}), need(categories={"culture"})) is None

    def test_one_common_field_is_enough(self):
        assert score(offer(categories={"sport", "culture"}), need(categories={"culture", "seniors"})) is not None

    def test_a_need_requiring_a_police_clearance_needs_an_offer_that_has_it(self):
        n = need(requirements={"police_clearance"})
        assert score(offer(), n) is None
        assert score(offer(requirements={"police_clearance", "driving_licence"}), n) is not None

    def test_requirements_of_the_offer_alone_do_not_restrict(self):
        assert score(offer(requirements={"driving_licence"}), need()) is not None


class TestVisibility:
    TENANTS = directory(
        TenantInfo("duesseldorf", frozenset({"neuss"})),
        TenantInfo("neuss", frozenset({"duesseldorf"})),
        TenantInfo("koeln"),
    )

    def s(self, o: Item, n: Item):
        return score(o, n, self.TENANTS)

    def test_tenant_visibility_only_within_the_same_municipality(self):
        assert self.s(offer(visibility="tenant"), need(tenant="duesseldorf")) is not None
        assert self.s(offer(visibility="tenant"), need(tenant="neuss")) is None

    def test_region_visibility_includes_neighbours(self):
        assert self.s(offer(visibility="region"), need(tenant="neuss")) is not None
        assert self.s(offer(visibility="region"), need(tenant="koeln")) is None

    def test_state_visibility_sees_everyone(self):
        assert self.s(offer(visibility="state"), need(tenant="koeln")) is not None

    def test_both_sides_must_see_each_other(self):
        # the offer sees the whole state, but the need only shows itself in Köln
        assert self.s(offer(visibility="state"), need(tenant="koeln", visibility="tenant")) is None
        assert self.s(offer(visibility="state"), need(tenant="neuss", visibility="region")) is not None

    def test_neighbourship_is_read_from_the_seeing_side(self):
        one_way = directory(TenantInfo("duesseldorf", frozenset({"neuss"})), TenantInfo("neuss"))
        o = offer(tenant="duesseldorf", visibility="region")
        assert score(o, need(tenant="neuss", visibility="state"), one_way) is not None
        assert score(o, need(tenant="neuss", visibility="region"), one_way) is None


class TestSchedule:
    def test_without_a_schedule_on_one_side_timing_never_blocks(self):
        n = need(dates=((utc(2025, 6, 1, 8), utc(2025, 6, 1, 10)),))
        assert score(offer(), n) is not None
        assert reason(explain(offer(), n), "schedule").value == 1.0

    def test_one_off_dates_must_overlap(self):
        n = need(dates=((utc(2025, 6, 1, 8), utc(2025, 6, 1, 10)),))
        assert score(offer(dates=((utc(2025, 6, 1, 9), utc(2025, 6, 1, 12)),)), n) is not None
        assert score(offer(dates=((utc(2025, 6, 1, 10), utc(2025, 6, 1, 12)),)), n) is None  # touching only

    def test_weekly_windows_must_share_a_weekday_and_time(self):
        n = need(weekly=((0, 18 * 60, 20 * 60),))  # Monday 18-20
        assert score(offer(weekly=((0, 19 * 60, 21 * 60),)), n) is not None
        assert score(offer(weekly=((1, 19 * 60, 21 * 60),)), n) is None
        assert score(offer(weekly=((0, 20 * 60, 22 * 60),)), n) is None

    def test_a_date_is_compared_with_weekly_windows_in_berlin_local_time(self):
        # Sunday 30 March 2025 is the first day of summer time: 09:00 UTC = 11:00 CEST
        o = offer(weekly=((6, 11 * 60, 12 * 60),))  # Sundays 11:00-12:00 local
        summer = need(dates=((utc(2025, 3, 30, 9), utc(2025, 3, 30, 9, 30)),))
        assert score(o, summer) is not None
        # one week earlier (winter time) 09:00 UTC is 10:00 CET: before the window
        winter = need(dates=((utc(2025, 3, 23, 9), utc(2025, 3, 23, 9, 30)),))
        assert score(o, winter) is None

    def test_a_long_date_range_covers_every_weekly_window(self):
        o = offer(weekly=((2, 7 * 60, 8 * 60),))
        n = need(dates=((utc(2025, 1, 1), utc(2025, 3, 1)),))
        assert score(o, n) is not None

    def test_schedule_factor_is_the_overlap_of_hour_slots(self):
        o = offer(weekly=((0, 18 * 60, 20 * 60),))  # Monday 18-20: 2 slots
        n = need(weekly=((0, 19 * 60, 21 * 60),))  # Monday 19-21: 2 slots, 1 shared
        m = explain(o, n)
        assert reason(m, "schedule").value == 0.5
        assert reason(m, "schedule").label_en == "Schedules overlap 50%"


# ------------------------------------------------------------------ factors and score


class TestFactors:
    def test_categories_are_scored_by_jaccard(self):
        m = explain(offer(categories={"sport", "environment", "culture"}), need(categories={"sport", "environment"}))
        r = reason(m, "categories")
        assert r.value == round(2 / 3, 6)
        assert r.label_de == "2 gemeinsame Handlungsfelder: Sport und Bewegung, Umwelt- und Naturschutz"
        assert r.label_en == "2 shared fields: Sport and exercise, Environment and nature"

    def test_skills_count_the_share_of_the_needs_skills(self):
        m = explain(offer(skills={"first_aid", "cooking"}), need(skills={"first_aid", "driving", "tutoring"}))
        assert reason(m, "skills").value == round(1 / 3, 6)
        assert reason(explain(offer(), need()), "skills").value == 1.0

    def test_distance_decays_exponentially_with_10_km_scale(self):
        m = explain(offer(actor_type="company"), need(km_north=3.2))
        r = reason(m, "distance")
        d = rules.distance_km(rules.prepare(offer(actor_type="company")),
                              rules.prepare(need(km_north=3.2)))
        assert r.value == round(math.exp(-d / 10), 6)
        assert r.label_de == "3,2 km entfernt"
        assert r.label_en == "3.2 km away"

    def test_a_persons_distance_counts_and_shows_in_whole_km_rounded_up(self):
        # Neither the label nor the factor (nor so the score) tells where the person lives.
        for km in (3.05, 3.2, 3.95):
            r = reason(explain(offer(actor_type="person"), need(km_north=km)), "distance")
            assert r.value == round(math.exp(-4 / 10), 6)
            assert (r.label_de, r.label_en) == ("bis 4 km entfernt", "within 4 km")
        same_place = reason(explain(offer(actor_type="person"), need()), "distance")
        assert same_place.label_en == "within 1 km"
        assert reason(explain(offer(actor_type="company"), need(actor_type="person", km_north=3.2)),
                      "distance").label_en == "within 4 km"

    def test_remote_distance_factor_is_one(self):
        r = reason(explain(offer(remote=True), need(km_north=100)), "distance")
        assert r.value == 1.0
        assert r.label_en == "Remote, no travel needed"

    @pytest.mark.parametrize(
        "o,n,value",
        [("regular", "regular", 1.0), ("spontaneous", "project", 0.5), ("regular", "project", 0.7),
         ("spontaneous", "regular", 0.3)],
    )
    def test_engagement_fit_table(self, o, n, value):
        assert reason(explain(offer(engagement=o), need(engagement=n)), "engagement").value == value

    def test_language_needs_a_shared_language_unless_one_side_has_none(self):
        assert reason(explain(offer(languages={"de"}), need(languages={"de", "tr"})), "language").value == 1.0
        assert reason(explain(offer(languages={"en"}), need(languages={"tr"})), "language").value == 0.0
        assert reason(explain(offer(), need(languages={"tr"})), "language").value == 1.0

    def test_accessibility_needed_but_missing_scores_zero(self):
        assert reason(explain(offer(accessible=False), need(accessible=True)), "accessibility").value == 0.0
        assert reason(explain(offer(accessible=True), need(accessible=True)), "accessibility").value == 1.0
        assert reason(explain(offer(accessible=False), need(accessible=False)), "accessibility").value == 1.0

    def test_a_companys_offer_fits_a_vereins_need_best(self):
        company = reason(explain(offer(actor_type="company"), need(actor_type="association")), "actor_type")
        person = reason(explain(offer(actor_type="person"), need(actor_type="person")), "actor_type")
        assert company.value == 1.0
        assert person.value == 0.8
        assert company.label_de == "Unternehmen hilft Verein"


class TestScore:
    def test_score_is_the_weighted_mean_of_the_factors_rounded_to_6_decimals(self):
        m = explain(offer(skills={"cooking"}), need(km_east=4, skills={"cooking", "driving"}))
        w = Weights().as_tuple()
        expected = sum(wi * r.value for wi, r in zip(w, m.reasons)) / sum(w)
        assert m.score == pytest.approx(expected, abs=2e-6)
        assert m.score == round(m.score, 6)
        assert 0.0 <= m.score <= 1.0
        assert [r.factor for r in m.reasons] == list(rules.FACTORS)

    def test_a_perfect_pair_scores_one(self):
        assert score(offer(actor_type="company", remote=True), need(actor_type="association")) == 1.0

    def test_the_weights_of_the_needs_tenant_apply(self):
        o = offer(tenant="a", km_north=10, actor_type="company")
        n = need(tenant="b", km_north=0)
        only_distance = Weights(categories=0, skills=0, distance=1, schedule=0, engagement=0, language=0,
                                accessibility=0, actor_type=0)
        tenants = directory(TenantInfo("a"), TenantInfo("b", weights=only_distance))
        d = rules.distance_km(rules.prepare(o), rules.prepare(n))
        assert score(o, n, tenants) == round(math.exp(-d / 10), 6)
        # the offer's tenant weights do not matter
        tenants = directory(TenantInfo("a", weights=only_distance), TenantInfo("b"))
        assert score(o, n, tenants) == score(o, n, directory())

    def test_explain_and_score_agree(self):
        o = offer(skills={"cooking"}, languages={"de"}, weekly=((3, 600, 720),))
        n = need(km_east=7, skills={"cooking", "music"}, languages={"de"}, weekly=((3, 660, 780),))
        assert explain(o, n).score == score(o, n)


class TestItemValidation:
    def test_radius_must_be_between_2_and_200_km(self):
        with pytest.raises(ValueError):
            offer(radius_km=1.0)
        with pytest.raises(ValueError):
            offer(radius_km=250.0)

    def test_dates_must_be_timezone_aware(self):
        from datetime import datetime

        with pytest.raises(ValueError):
            offer(dates=((datetime(2025, 1, 1), datetime(2025, 1, 2)),))

    def test_weekly_windows_must_be_within_a_day(self):
        with pytest.raises(ValueError):
            offer(weekly=((7, 0, 60),))
        with pytest.raises(ValueError):
            offer(weekly=((1, 600, 600),))

    def test_collections_become_frozensets(self):
        o = offer(categories=["sport", "sport"], skills=("cooking",))
        assert o.categories == frozenset({"sport"})
        assert isinstance(o.skills, frozenset)

    def test_dates_are_normalised_to_utc(self):
        from zoneinfo import ZoneInfo

        berlin = ZoneInfo("Europe/Berlin")
        from datetime import datetime

        start = datetime(2025, 6, 1, 10, tzinfo=berlin)
        o = offer(dates=((start, start + timedelta(hours=1)),))
        assert o.dates[0][0] == utc(2025, 6, 1, 8)
