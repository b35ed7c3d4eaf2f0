"""The portfolio report's words in each ``score.language``: one table of labels per language.

Headings, column heads and sentences; a sentence's values go in by name (``{as_of}``) with
``str.format``. Alert rules are named here too; their messages are worded by
``models.alert_text``, which also names the events an ``EVENT_*`` rule reports.
"""

from __future__ import annotations

from models.alert_text import EVENT_WORDS

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Trade-credit portfolio report",
        "scored_by": "Book scored by model {name} version {version}",
        "compared_with": ", compared with {before}",
        "backfill": " (re-scored with the current model: no earlier run in the history)",
        "rescored": " (re-scored with this model version: the stored book of that month was "
        "scored by another)",
        "no_previous": "; no previous book to compare with",
        "stop": ".",
        "amounts_in": "Amounts in {currency}.",
        "customer_pages": "Customer credit reports",
        "headline": "Headline",
        "headline_sub": "The book at {as_of}: scored customers, and those in default where named.",
        "headline_change": " Change against {before} below each figure.",
        "exposure": "Exposure (total)",
        "exposure_col": "Exposure",
        "expected_loss_col": "Expected loss",
        "exposure_split": "performing {performing} + in default {defaulted}",
        "expected_loss": "Expected loss (total)",
        "loss_split": "performing {performing} + in default {defaulted}; {rate} of exposure",
        "defaulted": "In default (recovery)",
        "defaulted_note": "{customers} customers; expected loss {loss} (PD 1 x LGD)",
        "was": "was {value}",
        "high_risk": "High-risk grades ({grade}+)",
        "high_risk_note": "of customers, {share} of performing exposure",
        "mean_pd": "Mean PD",
        "mean_pd_note": "12 months",
        "customers_scored": "Customers scored",
        "not_scored_note": "not scored: {in_default} in default, {other} not started",
        "no_adverse": "No adverse factor",
        "no_adverse_note": "of scored customers ({count}): nothing in their data raises their "
        "risk materially, so no reason is given (reason_1 empty in scores.csv)",
        "alerts": "Alerts",
        "alerts_note": "{high} high · {medium} medium · {low} low",
        "trends": "Trends",
        "trends_sub": "The book at each of the last {months} month ends in the history.",
        "trends_alerts_note": "Alerts are recorded by a monthly run; a month re-scored to fill "
        "the history has none (n/a).",
        "figure": "Figure",
        "trend": "Trend",
        "change": "Change",
        "high_risk_share": "High-risk share",
        "grades": "Grade distribution",
        "grades_sub": "Share of scored customers per master-scale grade.",
        "grades_sub_before": "Share of scored customers per master-scale grade, {before} "
        "(grey) against {as_of} (blue).",
        "grade": "Grade",
        "customers": "Customers",
        "share": "Share",
        "last_month": "Last month",
        "migration": "Migration matrix",
        "migration_sub": "Customers by grade at {before} (rows) and at {as_of} (columns); "
        "shading by the share of the row.",
        "migration_none": "No previous book in the history: the matrix appears from the "
        "second month on.",
        "downgrade": "downgrade",
        "upgrade": "upgrade",
        "same": "same grade / exited",
        "defaulted_word": "defaulted",
        "new": "new customers",
        "from_to": "from \\ to",
        "default": "default",
        "exited": "exited",
        "total": "total",
        "concentration": "Concentration",
        "concentration_sub": "Exposure by customer, performing and in default: the largest "
        "{n} and how much of the book they hold.",
        "top_share": "Top {n} customers",
        "top_share_note": "of the book's exposure",
        "hhi": "HHI by customer",
        "hhi_note": "as concentrated as {count} equal customers",
        "hhi_sector": "HHI by sector",
        "hhi_region": "HHI by region",
        "hhi_group_note": "largest: {label}, {share}",
        "customer": "Customer",
        "sector": "Sector",
        "region": "Region",
        "pd": "PD",
        "cumulative": "Cumulative",
        "in_default": "in default",
        "losses": "Exposure and expected loss by sector and by region",
        "losses_sub": "Exposure = open receivables at {as_of}; expected loss = PD × LGD × "
        "exposure (PD 1 in default); both count the customers in default, as the headline "
        "does. Mean PD of the scored customers.",
        "of_which_default": "In default",
        "loss_distribution": "Loss distribution over the next 12 months",
        "loss_distribution_sub": "{scenarios} simulated years of the book's credit losses "
        "(Gaussian copula: {factors}; asset correlation {correlation}; the policy's LGD). Value "
        "at risk (VaR): the loss not exceeded in 99 % (99.9 %) of years; expected shortfall "
        "(ES): the mean loss of the worst 1 % (0.1 %). Customers in default lose LGD × exposure "
        "every year.",
        "one_factor": "one economic factor for every sector",
        "sector_factors": "one factor per sector, sectors correlated {correlation}",
        "basel_correlation": "by the Basel corporate formula, 0.12–0.24 by PD",
        "loss_book": "Book",
        "loss_certain": "In default (certain)",
        "loss_performing": "Performing",
        "loss_after_cuts": "With the limit cuts",
        "expected_loss_row": "Expected loss",
        "unexpected_loss_row": "Unexpected loss (standard deviation)",
        "var_99_row": "VaR 99 %",
        "es_99_row": "Expected shortfall 99 %",
        "var_99_9_row": "VaR 99.9 %",
        "es_99_9_row": "Expected shortfall 99.9 %",
        "limit_cuts_note": "Limit cuts: the {customers} customers the policy asks to reduce the "
        "limit of owe at most their recommended limit once their receivables roll over "
        "({exposure} less exposure); in the same simulated years the 99.9 % VaR is {var} lower "
        "({share}).",
        "no_limit_cuts": "No customer owes more than the limit the policy recommends: the limit "
        "cuts do not change the loss.",
        "es_by_sector": "Contribution to the 99.9 % expected shortfall by sector",
        "es_contribution": "ES 99.9 %",
        "es_share": "Share of ES",
        "beyond_expected": "Beyond expected",
        "top_contributors": "Performing customers contributing most to the 99.9 % ES",
        "loss_rate": "Loss rate",
        "lifetime": "Lifetime expected loss and provision matrix",
        "lifetime_sub": "IFRS 9 simplified approach. Lifetime expected credit loss (ECL) of the "
        "receivables open at {as_of}: each open invoice's amount × LGD × the PD over its "
        "remaining life (days to its due date, none once overdue, plus the customer's average "
        "days late over 12 months, its sector's median where it has none), read from the "
        "customer's PD term structure; a customer in default loses LGD × exposure. Mean "
        "remaining life {life} months: an invoice lives less than a year, so its lifetime ECL is "
        "usually below the 12-month expected loss (PD 12 months × LGD × exposure).",
        "lifetime_ecl": "Lifetime ECL (total)",
        "lifetime_split": "performing {performing} + in default {defaulted}",
        "twelve_month_el": "12-month expected loss (total)",
        "matrix_total": "Provision matrix (performing)",
        "matrix_total_note": "{rate} of the open amount; the model's lifetime ECL {model}",
        "lifetime_none": "The scoring model has no PD term structure: no lifetime ECL this "
        "month. The provision matrix below needs none.",
        "matrix": "Provision matrix by ageing bucket (performing customers)",
        "matrix_sub": "The auditors' view, from the book's own history: at each of {months} "
        "month ends ({first} to {last}) every open invoice of a customer not yet in default, by "
        "its ageing bucket then; lost if the customer defaulted within {horizon} months with the "
        "invoice unpaid. Loss rate = LGD × lost amount / amount; interval: the {level} "
        "percentile interval over {resamples} resamples of whole customers. The rates applied "
        "to the performing customers' open invoices now give the provision; beside it, the "
        "model's lifetime ECL of the same invoices.",
        "matrix_no_history": "No month end has its {horizon}-month outcome in the history yet: "
        "no loss rates.",
        "bucket": "Ageing bucket",
        "open_invoices": "Invoices",
        "open_amount": "Open amount",
        "hist_loss_rate": "Historical loss rate ({level} interval)",
        "provision": "Provision",
        "model_ecl": "Model lifetime ECL",
        "ecl_share": "ECL / amount",
        "history_count": "History (invoices)",
        "bucket_current": "Current (not yet due)",
        "bucket_1-30": "1–30 days past due",
        "bucket_31-60": "31–60 days past due",
        "bucket_61-90": "61–90 days past due",
        "bucket_90+": "> 90 days past due",
        "risk_map": "Risk map",
        "risk_map_sub": "Region × month: the book's mean 12-month PD, and the observed default "
        "rate (share of the customers scored {horizon} months earlier that defaulted by that "
        "month). Trend: last month against the first.",
        "pd_colours": "Colours: the master scale's PD bands, the same on every table.",
        "observed_rate": "Observed default rate",
        "all_regions": "All regions",
        "all_sectors": "All sectors",
        "outlook": "Outlook: the next {short} and {long} months",
        "outlook_sub": "The expected default rate of the performing customers of each region "
        "and sector within {short} and {long} months: their PDs within that time (the PD term "
        "structure) averaged, with the {level} interval of the share that defaults, simulated "
        "with correlated defaults (the loss distribution's model; asset correlation "
        "{correlation}). Beside it, the rate observed "
        "over the last {months} months, at the same horizon: the naive forecast the back-test "
        "below compares with.",
        "outlook_colours": "Colours: the master-scale band of the rate's 12-month equivalent.",
        "outlook_basel": "by the Basel formula, 0.12-0.24",
        "outlook_months": "{h} months",
        "outlook_expected": "Expected",
        "outlook_interval": "{level} interval",
        "outlook_observed": "Last {months} m",
        "outlook_defaults": "Defaults",
        "outlook_none": "No outlook: the scored book has no PD term structure (pd_3m, pd_6m).",
        "outlook_backtest": "Back-test: mean absolute error of the forecast default rate",
        "outlook_backtest_sub": "At each past month end out of time for the model, each group's "
        "forecast default rate against the rate its customers realised within the horizon: the "
        "mean absolute error over groups and month ends, in percentage points (lower is better; "
        "the best in bold).",
        "outlook_month_ends": "Month ends",
        "outlook_backtest_methods": "Naive forecasts: the group's observed monthly default rate "
        "over the last 6 or 12 months, r, scaled to h months as 1 - (1 - r)^h.",
        "outlook_backtest_none": "No back-test in metrics.json yet (the evaluate stage writes it).",
        "outlook_horizon": "Horizon",
        "outlook_by": "By",
        "outlook_cells": "Cells",
        "outlook_model": "Model",
        "outlook_last_6m": "Last 6 months' rate",
        "outlook_last_12m": "Last 12 months' rate",
        "outlook_beats": "Model beats both",
        "outlook_yes": "yes",
        "outlook_no": "no",
        "outlook_book": "Whole book",
        "movers": "Top movers",
        "movers_sub": "The largest PD increases since {before}.",
        "previous_book": "the previous book",
        "movers_none": "No PD increase to show.",
        "first_reason": "First reason",
        "alerts_sub": "{total} alerts on {customers} customers this month, by rule. The full "
        "list: ",
        "workbook": "the workbook",
        "rule": "Rule",
        "severity": "Severity",
        "alerted": "First alerted customers to look at",
        "alerted_sub": "The {n} alerted customers with the most severe alert and then the "
        "largest exposure; each alert's message is in alerts.csv.",
        "rules": "Rules",
        "alerts_none": "No alert this month.",
        "high": "high",
        "medium": "medium",
        "low": "low",
        "model": "Model",
        "model_sub": "{name} version {version} (alias {alias}) scores the book; the figures "
        "below are of version {metrics_version} on the out-of-time test window; calibration: "
        "{method}.",
        "gate_waits": "Challenger version {version} waits ({decision}): {reasons}.",
        "gate_promoted": "Version {version} passed the gate and was promoted this run.",
        "gate_replaces": " It replaces version {before}.",
        "test_auc": "Test AUC",
        "brier": "Brier",
        "calibration_error": "calibration error {value}",
        "pd_vs_rate": "Mean PD vs default rate",
        "observed": "observed {value}",
        "oracle": "Best achievable AUC",
        "oracle_note": "true PDs of the synthetic book",
        "test_rows": "Test rows",
        "month_over_month": "Month over month on the test window",
        "churn": "Grade changes from one month end to the next: {model} of the customers with "
        "the model",
        "churn_truth": ", {truth} with the true PDs (ratio {ratio}, target at most {target})",
        "backtest": "Alert back-test of {rules}",
        "hysteresis": " (hysteresis margin {margin})",
        "backtest_result": ": the alerted customers defaulted within {horizon} months at "
        "{precision}, the others at {others} (ratio {ratio}, target at least {target}).",
        "month_end": "Month end",
        "alerted_customers": "Alerted customers",
        "without_hysteresis": "Alerts without hysteresis",
        "reduce": "Told to reduce the limit",
        "newly": "newly",
        "on_month_grade": "before (month's grade)",
        "with_truth": "with the true PDs",
        "limits_left_out": "Limit reductions left out: {what}.",
        "footer": "Generated by the report stage from data/scored (scores.csv, alerts.csv, "
        "history/) and the model's evaluation files. Exposure: invoices issued and not yet "
        "paid at the as-of date. LGD and the high-risk grades: configs/policy.yaml.",
        "event": "Event: {event}",
        "collections": "Collections and cash-in",
        "collections_sub": "The open invoices of the scored customers at {as_of}: when each is "
        'likely paid, from a weekly payment-timing model (README "Collections and cash-in"). '
        "Every open invoice is in data/scored/invoices.csv, the worklist in collections.csv.",
        "cash_in": "Expected cash in, next {weeks} weeks",
        "cash_in_note": "from the {open} open; 80 % interval {low} to {high}",
        "dso_now": "DSO now",
        "dso_ahead": "DSO at {month}",
        "dso_note": "receivables x 91 / invoicing of the last 91 days",
        "dso_ahead_note": "new invoicing at the last 3 months' rate",
        "cash_forecast": "Cash in by week",
        "cash_forecast_sub": "Expected receipts of the open invoices per week (bars) with the "
        "80 % interval (lines); invoices not yet issued are not included.",
        "week": "Week",
        "from": "From",
        "expected": "Expected",
        "interval_80": "80 % interval",
        "worklist": "Collections worklist: the first {n} customers of {total} open invoices",
        "worklist_sub": "Ranked by expected loss from late or missed payment: amount x P(not paid "
        "within {days} days past due) x LGD + amount x expected days late x the cost of capital. "
        "Actions from configs/policy.yaml (collections). One line per customer, by the total of "
        "its invoices; the action, reasons and pay date are its first invoice's "
        "(data/scored/collections.csv lists every invoice).",
        "by_action": "By action",
        "action": "Action",
        "invoices_col": "Invoices",
        "amount": "Amount",
        "invoice": "Invoice",
        "due": "Due",
        "dpd": "Days past due",
        "dpd_oldest": "Days past due (oldest)",
        "first_invoice": "first invoice",
        "p_by_due": "P(paid by due)",
        "p_never": "P(never paid)",
        "pay_date": "Expected pay date (80 %)",
        "expected_loss_short": "Expected loss",
        "why": "Why",
        "timing_quality": "How good the timing is: out of time",
        "timing_quality_sub": "A model trained on the month ends {train_from} to {train_to} "
        "with the payments known by {cutoff}, judged on the {invoices} invoices open at {first} "
        "to {last} with {weeks} weeks of payments observed, against the customer's own habit "
        "over the 12 months before (the anchor), the provision matrix's ageing-bucket rates "
        "and, on synthetic data, the true distribution.",
        "metric": "Measure",
        "model_col": "Model",
        "anchor_col": "Customer habit (anchor)",
        "m_auc_by_due": "AUC, P(paid by the due date)",
        "m_ece_by_due": "Calibration error (ECE), P(paid by the due date)",
        "m_auc_late_30": "AUC, P(paid more than 30 days late)",
        "m_ece_late_30": "Calibration error (ECE), P(paid more than 30 days late)",
        "m_mae": "Pay date: mean absolute error (days)",
        "m_coverage": "Pay date: 80 % interval coverage",
        "m_bucket": "Lateness bucket accuracy (by amount; early, on time, 1-30, 31-60, over 60 "
        "days late or never)",
        "m_concordance": "Concordance (Harrell's C) of the expected days to payment",
        "m_wape": "13-week cash in: weekly error / receipts (WAPE)",
        "m_cash_coverage": "13-week cash in: 80 % interval coverage",
        "ageing_col": "Ageing buckets (provision matrix)",
        "oracle_col": "Oracle (true distribution)",
    },
    "zh": {
        "title": "应收账款信用组合报告",
        "scored_by": "评分模型 {name} 第 {version} 版",
        "compared_with": "，对比 {before}",
        "backfill": "（以当前模型重新评分：历史中没有更早的运行）",
        "rescored": "（以本模型版本重新评分：该月存档的账簿由其他版本评分）",
        "no_previous": "；没有可对比的上期账簿",
        "stop": "。",
        "amounts_in": "金额单位：{currency}。",
        "customer_pages": "客户信用报告",
        "headline": "概览",
        "headline_sub": "{as_of} 的账簿：已评分客户，以及注明的违约客户。",
        "headline_change": "各项下方为与 {before} 的对比。",
        "exposure": "敞口合计",
        "exposure_col": "敞口",
        "expected_loss_col": "预期损失",
        "exposure_split": "正常履约 {performing} + 违约 {defaulted}",
        "expected_loss": "预期损失合计",
        "loss_split": "正常履约 {performing} + 违约 {defaulted}；占敞口 {rate}",
        "defaulted": "违约敞口（回收中）",
        "defaulted_note": "{customers} 户；预期损失 {loss}（违约概率按 1 计 × 违约损失率）",
        "was": "上期 {value}",
        "high_risk": "高风险等级（{grade} 级及以上）",
        "high_risk_note": "占客户数；占正常履约敞口 {share}",
        "mean_pd": "平均违约概率",
        "mean_pd_note": "12 个月",
        "customers_scored": "已评分客户",
        "not_scored_note": "未评分：违约 {in_default} 户，尚未开始 {other} 户",
        "no_adverse": "无不利因素",
        "no_adverse_note": "占已评分客户（{count} 户）：数据中没有显著提高风险的因素，"
        "因此不给出原因（scores.csv 中 reason_1 为空）",
        "alerts": "预警",
        "alerts_note": "高 {high} · 中 {medium} · 低 {low}",
        "trends": "趋势",
        "trends_sub": "历史中最近 {months} 个月末的账簿。",
        "trends_alerts_note": "预警由每月运行记录；为补齐历史而重新评分的月份没有预警（n/a）。",
        "figure": "指标",
        "trend": "走势",
        "change": "变化",
        "high_risk_share": "高风险占比",
        "grades": "评级分布",
        "grades_sub": "各主标尺等级的已评分客户占比。",
        "grades_sub_before": "各主标尺等级的已评分客户占比：{before}（灰）对比 {as_of}（蓝）。",
        "grade": "等级",
        "customers": "客户数",
        "share": "占比",
        "last_month": "上月",
        "migration": "评级迁移矩阵",
        "migration_sub": "按 {before} 的等级（行）和 {as_of} 的等级（列）统计客户数；"
        "底色深浅为占该行的比例。",
        "migration_none": "历史中没有上期账簿：迁移矩阵从第二个月起显示。",
        "downgrade": "下调",
        "upgrade": "上调",
        "same": "等级不变 / 退出",
        "defaulted_word": "违约",
        "new": "新客户",
        "from_to": "由 \\ 至",
        "default": "违约",
        "exited": "退出",
        "total": "合计",
        "concentration": "集中度",
        "concentration_sub": "按客户统计的敞口（含正常履约与违约）："
        "最大的 {n} 户及其占账簿的比例。",
        "top_share": "前 {n} 大客户",
        "top_share_note": "占账簿敞口",
        "hhi": "客户 HHI 指数",
        "hhi_note": "相当于 {count} 个同等规模客户的集中度",
        "hhi_sector": "行业 HHI 指数",
        "hhi_region": "地区 HHI 指数",
        "hhi_group_note": "最大：{label}，{share}",
        "customer": "客户",
        "sector": "行业",
        "region": "地区",
        "pd": "违约概率",
        "cumulative": "累计",
        "in_default": "违约",
        "losses": "按行业和地区的敞口与预期损失",
        "losses_sub": "敞口 = {as_of} 的未结应收账款；预期损失 = 违约概率 × 违约损失率 × 敞口"
        "（违约客户的违约概率按 1 计）；两者均含违约客户，与概览一致。平均违约概率为已评分客户的。",
        "of_which_default": "其中违约",
        "loss_distribution": "未来 12 个月的损失分布",
        "loss_distribution_sub": "模拟账簿信用损失 {scenarios} 年（高斯 Copula：{factors}；"
        "资产相关性{correlation}；违约损失率取自信用政策）。风险价值（VaR）：99 %（99.9 %）的年份"
        "中不会超过的损失；预期亏损（ES）：最差 1 %（0.1 %）年份的平均损失。违约客户每年损失"
        "违约损失率 × 敞口。",
        "one_factor": "所有行业共用一个经济因子",
        "sector_factors": "每个行业一个因子，行业间相关性 {correlation}",
        "basel_correlation": "按巴塞尔公司风险暴露公式，随违约概率在 0.12–0.24 之间",
        "loss_book": "账簿",
        "loss_certain": "违约（确定损失）",
        "loss_performing": "正常履约",
        "loss_after_cuts": "执行额度下调后",
        "expected_loss_row": "预期损失",
        "unexpected_loss_row": "非预期损失（标准差）",
        "var_99_row": "VaR 99 %",
        "es_99_row": "预期亏损 99 %",
        "var_99_9_row": "VaR 99.9 %",
        "es_99_9_row": "预期亏损 99.9 %",
        "limit_cuts_note": "额度下调：信用政策建议下调额度的 {customers} 个客户在应收账款周转后"
        "最多欠付建议额度（敞口减少 {exposure}）；在相同的模拟年份中，99.9 % VaR 降低 {var}"
        "（{share}）。",
        "no_limit_cuts": "没有客户的欠款超过政策建议的额度：额度下调不改变损失。",
        "es_by_sector": "按行业对 99.9 % 预期亏损的贡献",
        "es_contribution": "ES 99.9 %",
        "es_share": "占 ES 比例",
        "beyond_expected": "超出预期部分",
        "top_contributors": "对 99.9 % 预期亏损贡献最大的正常履约客户",
        "loss_rate": "损失率",
        "lifetime": "存续期预期损失与拨备矩阵",
        "lifetime_sub": "IFRS 9 简化方法。{as_of} 未结应收账款的存续期预期信用损失（ECL）："
        "每张未结发票的金额 × 违约损失率 × 其剩余期限内的违约概率（距到期日的天数，已逾期则为 0，"
        "加上客户过去 12 个月的平均逾期天数，无记录时取其行业中位数），取自客户的违约概率期限结构；"
        "违约客户损失违约损失率 × 敞口。平均剩余期限 {life} 个月：发票的存续期短于一年，"
        "因此其存续期预期损失通常低于 12 个月预期损失（12 个月违约概率 × 违约损失率 × 敞口）。",
        "lifetime_ecl": "存续期预期损失合计",
        "lifetime_split": "正常履约 {performing} + 违约 {defaulted}",
        "twelve_month_el": "12 个月预期损失合计",
        "matrix_total": "拨备矩阵（正常履约）",
        "matrix_total_note": "占未结金额 {rate}；模型存续期预期损失 {model}",
        "lifetime_none": "评分模型没有违约概率期限结构：本月不计算存续期预期损失。"
        "下方拨备矩阵不需要它。",
        "matrix": "按账龄分段的拨备矩阵（正常履约客户）",
        "matrix_sub": "审计视角，取自账簿自身的历史：在 {months} 个月末（{first} 至 {last}），"
        "尚未违约客户的每张未结发票按当时的账龄分段；若客户在 {horizon} 个月内违约且该发票仍未付，"
        "则计为损失。损失率 = 违约损失率 × 损失金额 / 金额；区间：按整户重抽样 {resamples} 次的 "
        "{level} 百分位区间。以这些损失率乘以当前正常履约客户的未结发票得到拨备；旁列为模型对同一批"
        "发票的存续期预期损失。",
        "matrix_no_history": "历史中尚无月末的 {horizon} 个月结果已知：没有损失率。",
        "bucket": "账龄分段",
        "open_invoices": "发票数",
        "open_amount": "未结金额",
        "hist_loss_rate": "历史损失率（{level} 区间）",
        "provision": "拨备",
        "model_ecl": "模型存续期预期损失",
        "ecl_share": "预期损失 / 金额",
        "history_count": "历史（发票数）",
        "bucket_current": "未到期",
        "bucket_1-30": "逾期 1–30 天",
        "bucket_31-60": "逾期 31–60 天",
        "bucket_61-90": "逾期 61–90 天",
        "bucket_90+": "逾期 90 天以上",
        "risk_map": "风险地图",
        "risk_map_sub": "地区 × 月份：账簿的平均 12 个月违约概率，以及实际违约率（{horizon} "
        "个月前评分的客户到该月为止违约的比例）。走势：最后一个月对比第一个月。",
        "pd_colours": "颜色：主标尺的违约概率区间，所有表格一致。",
        "observed_rate": "实际违约率",
        "all_regions": "全部地区",
        "all_sectors": "全部行业",
        "outlook": "展望：未来 {short} 个月和 {long} 个月",
        "outlook_sub": "各地区和行业正常履约客户在 {short} 个月和 {long} 个月内的预期违约率："
        "客户在该期间内的违约概率（违约概率期限结构）的平均值，以及违约比例的 {level} 区间"
        "（按相关违约模拟，与损失分布同一模型；资产相关系数 {correlation}）。"
        "旁边为过去 {months} 个月观察到的违约率，"
        "折算到同一期限：即下方回测所比较的朴素预测。",
        "outlook_colours": "颜色：违约率折算为 12 个月后所在的主标尺区间。",
        "outlook_basel": "按巴塞尔公式，0.12-0.24",
        "outlook_months": "{h} 个月",
        "outlook_expected": "预期",
        "outlook_interval": "{level} 区间",
        "outlook_observed": "过去 {months} 个月",
        "outlook_defaults": "违约户数",
        "outlook_none": "无展望：评分账簿没有违约概率期限结构（pd_3m、pd_6m）。",
        "outlook_backtest": "回测：预测违约率的平均绝对误差",
        "outlook_backtest_sub": "在模型样本外的每个历史月末，各组的预测违约率对比其客户在该期限内"
        "的实际违约率：按组和月末计算的平均绝对误差，单位为百分点（越低越好；最佳者加粗）。",
        "outlook_month_ends": "月末",
        "outlook_backtest_methods": "朴素预测：该组过去 6 个月或 12 个月观察到的月违约率 r，"
        "按 1 - (1 - r)^h 折算到 h 个月。",
        "outlook_backtest_none": "metrics.json 中尚无回测（由 evaluate 阶段写入）。",
        "outlook_horizon": "期限",
        "outlook_by": "维度",
        "outlook_cells": "单元数",
        "outlook_model": "模型",
        "outlook_last_6m": "过去 6 个月违约率",
        "outlook_last_12m": "过去 12 个月违约率",
        "outlook_beats": "模型优于两者",
        "outlook_yes": "是",
        "outlook_no": "否",
        "outlook_book": "整个账簿",
        "movers": "违约概率上升最多的客户",
        "movers_sub": "自 {before} 以来违约概率上升最多的客户。",
        "previous_book": "上期账簿",
        "movers_none": "没有违约概率上升的客户。",
        "first_reason": "首要原因",
        "alerts_sub": "本月 {total} 条预警，涉及 {customers} 户客户，按规则汇总。完整列表：",
        "workbook": "工作簿",
        "rule": "规则",
        "severity": "严重程度",
        "alerted": "优先关注的预警客户",
        "alerted_sub": "预警最严重、敞口最大的 {n} 户客户；每条预警的说明见 alerts.csv。",
        "rules": "规则",
        "alerts_none": "本月没有预警。",
        "high": "高",
        "medium": "中",
        "low": "低",
        "model": "模型",
        "model_sub": "{name} 第 {version} 版（别名 {alias}）为账簿评分；以下指标为第 "
        "{metrics_version} 版在样本外测试期的表现；校准方法：{method}。",
        "gate_waits": "挑战者第 {version} 版待定（{decision}）：{reasons}。",
        "gate_promoted": "第 {version} 版通过审核，本次运行已上线。",
        "gate_replaces": "取代第 {before} 版。",
        "test_auc": "测试 AUC",
        "brier": "Brier 分数",
        "calibration_error": "校准误差 {value}",
        "pd_vs_rate": "平均违约概率 / 实际违约率",
        "observed": "实际 {value}",
        "oracle": "可达到的最佳 AUC",
        "oracle_note": "合成账簿的真实违约概率",
        "test_rows": "测试样本数",
        "month_over_month": "测试期的逐月表现",
        "churn": "月末之间等级变化的客户占比：模型 {model}",
        "churn_truth": "，真实违约概率 {truth}（比值 {ratio}，目标不超过 {target}）",
        "backtest": "预警回测（{rules}）",
        "hysteresis": "（滞后边际 {margin}）",
        "backtest_result": "：被预警客户 {horizon} 个月内违约率 {precision}，其他客户 {others}"
        "（比值 {ratio}，目标至少 {target}）。",
        "month_end": "月末",
        "alerted_customers": "被预警客户",
        "without_hysteresis": "无滞后的预警",
        "reduce": "建议降低额度",
        "newly": "新增",
        "on_month_grade": "按当月等级",
        "with_truth": "按真实违约概率",
        "limits_left_out": "未计入的额度调整：{what}。",
        "footer": "由 report 阶段根据 data/scored（scores.csv、alerts.csv、history/）"
        "及模型评估文件生成。敞口：截至评估日已开具未付款的发票。违约损失率与高风险等级：configs/policy.yaml。",
        "event": "事件：{event}",
        "collections": "催收与回款",
        "collections_sub": "截至 {as_of} 已评分客户的未结发票：每张发票可能的付款时间，"
        "来自按周的付款时间模型（README“Collections and cash-in”）。全部未结发票见 "
        "data/scored/invoices.csv，催收清单见 collections.csv。",
        "cash_in": "未来 {weeks} 周预计回款",
        "cash_in_note": "来自 {open} 未结金额；80% 区间 {low} 至 {high}",
        "dso_now": "当前 DSO",
        "dso_ahead": "{month} 的 DSO",
        "dso_note": "应收账款 x 91 / 近 91 天开票额",
        "dso_ahead_note": "新开票按近 3 个月的速度",
        "cash_forecast": "按周回款",
        "cash_forecast_sub": "未结发票每周的预计回款（柱）及 80% 区间（线）；"
        "尚未开具的发票不计入。",
        "week": "周",
        "from": "起始日",
        "expected": "预计",
        "interval_80": "80% 区间",
        "worklist": "催收清单：{total} 张未结发票中的前 {n} 个客户",
        "worklist_sub": "按逾期或未付的预期损失排序：金额 x 逾期 {days} 天内未付的概率 "
        "x 违约损失率 + 金额 x 预计逾期天数 x 资金成本。"
        "行动规则见 configs/policy.yaml（collections）。每个客户一行，按其发票合计排序；"
        "行动、原因和付款日取其排名最前的发票（data/scored/collections.csv 列出每张发票）。",
        "by_action": "按行动",
        "action": "行动",
        "invoices_col": "发票数",
        "amount": "金额",
        "invoice": "发票",
        "due": "到期日",
        "dpd": "逾期天数",
        "dpd_oldest": "最长逾期天数",
        "first_invoice": "首张发票",
        "p_by_due": "到期前付款概率",
        "p_never": "永不付款概率",
        "pay_date": "预计付款日（80%）",
        "expected_loss_short": "预期损失",
        "why": "原因",
        "timing_quality": "付款时间预测的准确度（样本外）",
        "timing_quality_sub": "模型用 {train_from} 至 {train_to} 的月末、"
        "截至 {cutoff} 已知的付款训练，"
        "在 {first} 至 {last} 月末未结的 {invoices} 张发票上检验（观察 {weeks} 周的付款），"
        "对照客户自身过去 12 个月的付款习惯（基准）、准备金矩阵的账龄区间比率，"
        "以及合成数据上的真实分布。",
        "metric": "指标",
        "model_col": "模型",
        "anchor_col": "客户习惯（基准）",
        "m_auc_by_due": "AUC：到期前付款概率",
        "m_ece_by_due": "校准误差（ECE）：到期前付款概率",
        "m_auc_late_30": "AUC：逾期超过 30 天付款的概率",
        "m_ece_late_30": "校准误差（ECE）：逾期超过 30 天付款的概率",
        "m_mae": "付款日：平均绝对误差（天）",
        "m_coverage": "付款日：80% 区间覆盖率",
        "m_bucket": "逾期区间准确率（按金额；提前、按时、1-30、31-60、超过 60 天或永不付款）",
        "m_concordance": "预计付款天数的一致性（Harrell C）",
        "m_wape": "13 周回款：周误差 / 回款（WAPE）",
        "m_cash_coverage": "13 周回款：80% 区间覆盖率",
        "ageing_col": "账龄区间（准备金矩阵）",
        "oracle_col": "真实分布（oracle）",
    },
}
RULE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "DOWNGRADE": "Downgrade",
        "ENTER_HIGH_RISK": "Entered the high-risk grades",
        "PD_INCREASE": "PD increase",
        "LATE_45_CONSECUTIVE": "Late 45+ days, consecutive quarters",
        "LIMIT_BREACH": "Limit breach",
        "NEW_OVERDUE": "New overdue amount",
        "DEFAULTED": "Defaulted",
    },
    "zh": {
        "DOWNGRADE": "评级下调",
        "ENTER_HIGH_RISK": "进入高风险等级",
        "PD_INCREASE": "违约概率上升",
        "LATE_45_CONSECUTIVE": "连续多季度逾期 45 天以上",
        "LIMIT_BREACH": "超出信用额度",
        "NEW_OVERDUE": "新增逾期金额",
        "DEFAULTED": "违约",
    },
}
_EVENT = "EVENT_"


def rule_name(rule: str, language: str) -> str:
    """An alert rule's name in ``language``; an unknown rule is shown as its code."""
    if rule in RULE_WORDS[language]:
        return RULE_WORDS[language][rule]
    event = rule[len(_EVENT) :].lower() if rule.startswith(_EVENT) else ""
    if event in EVENT_WORDS:
        return WORDS[language]["event"].format(event=EVENT_WORDS[event][language])
    return rule
