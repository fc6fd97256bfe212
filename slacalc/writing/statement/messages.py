"""Every word of a statement, in English and Simplified Chinese, and the forms of dates, months,
durations and amounts in each language.

Templates never hold text of their own: they ask :class:`Catalogue` for a message by key. A key
missing from a language is a bug the tests catch (both languages have the same keys).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from markupsafe import Markup

from slacalc.dates.instants import from_us
from slacalc.errors import printable
from slacalc.terms import money
from slacalc.writing import times

EN, ZH = "en", "zh"
LANGS = (EN, ZH)
HTML_LANG = {EN: "en", ZH: "zh-CN"}

MESSAGES: dict[str, dict[str, str]] = {
    EN: {
        # page
        "title": "Monthly SLA statement",
        "subtitle": "{customer} · {month}",
        "customer": "Customer",
        "customer_named": "{name} ({id})",
        "statement_number": "Statement number",
        "issued_by": "Issued by",
        "issuer_missing": "No issuer is named on this statement: it was made without an issuer "
        "file (slacalc statement --issuer FILE).",
        "tax_id": "Tax ID",
        "email": "Email",
        "phone": "Phone",
        "labelled": "{label}: {value}",
        "period": "Period",
        "period_range": "{days} ({zone}, UTC{offset})",
        "as_of": "As of",
        "status": "Status",
        "status.final": "final",
        "status.provisional": "provisional: the month was not over at the as-of time",
        "generated_by": "Made by slacalc {version} from the files listed under “Input files”.",
        "times_note": "All times are local times in {zone}.",
        "no_services": "This customer has no report row in {month}.",
        # summary
        "summary": "Summary",
        "service": "Service",
        "availability": "Availability",
        "committed": "Committed target",
        "tier_reached": "Tier reached",
        "result": "Result",
        "compensation": "Compensation",
        "breached": "breached",
        "met": "met",
        "total_compensation": "Total compensation",
        # one service
        "service_heading": "Service {service}",
        "monthly_fee": "Monthly fee",
        "policy": "Policy",
        "downtime": "Downtime",
        "excluded_time": "Excluded time",
        "incident_count": "Incidents counted",
        "seconds_and_duration": "{seconds} s ({duration})",
        "timeline": "Timeline of the month",
        "timeline_title": "Downtime of {service} in {month}",
        "legend.down": "down (darker: larger impact)",
        "legend.partial": "partial impact",
        "legend.excluded": "maintenance / excluded",
        "legend.rest": "rest days",
        "no_downtime": "No downtime in the month.",
        "interval_title": "{start} to {end}: impact {impact}, downtime {downtime}",
        "window_title": "{category} {start} to {end}",
        "incidents": "Incidents as counted",
        "incidents_none": "No incident of this service falls in the month.",
        "incidents_outside": "{count} other incident(s) of this service fall outside the month.",
        "col.id": "Id",
        "col.category": "Category",
        "col.impact": "Impact",
        "col.as_read": "Start and end as read",
        "col.counted": "Counted in the month",
        "col.excluded": "Excluded",
        "col.interval": "Interval",
        "col.notes": "Notes",
        "col.start": "Start",
        "col.end": "End",
        "col.length": "Length",
        "col.downtime": "Downtime",
        "col.counted_downtime": "Counted",
        "col.incidents": "Incidents merged",
        "ongoing": "ongoing",
        "line_ref": "line {line}",
        "impact_partial": "{pct} % (partial)",
        "impact_full": "{pct} %",
        "intervals": "Downtime intervals",
        "intervals_note": "Overlapping incidents are merged and counted once; where impacts "
        "overlap the largest counts; maintenance and excluded time is taken out.",
        "windows": "Maintenance and excluded time",
        "formula": "How the figures are computed",
        "claim": "Compensation and claim",
        "credit_form": "Paid as",
        "credit_form.cash": "cash",
        "credit_form.account_credit": "account credit",
        "credit_form.voucher": "vouchers",
        "credit_form.service_extension": "service-time extension",
        "credit_form.resource_grant": "resource grant",
        "form.extension_days": "service-time extension of {days} days",
        "form.grant_detail": "resource grant: {grant}",
        "form.voucher_expires": "vouchers, valid until {date}",
        "compensation_due": "Compensation due",
        "claim_window": "Claim window",
        "claim_open_ended": "onwards, with no end",
        "claim_status": "Claim status at the as-of time",
        "claim_status.not_open": "not open yet",
        "claim_status.open": "open",
        "claim_status.claim_expired": "expired",
        "claim_status.below_min_credit": "below the minimum credit: none is issued",
        "no_claim": "No compensation: the committed target is met.",
        # the compensation ledger (--ledger)
        "ledger.heading": "In the compensation ledger",
        "ledger.summary": "Credits in the compensation ledger",
        "ledger.summary_note": "Computed: the compensation of this statement. Approved: what "
        "the ledger approved. Issued: what was issued, with its adjustments.",
        "ledger.credit_id": "Credit",
        "ledger.status": "Credit status",
        "ledger.since": "Status since",
        "ledger.claim": "Claim",
        "ledger.claim_value": "reference {reference}, {date}",
        "ledger.document": "Document number",
        "ledger.reason": "Reason",
        "ledger.paid_as": "Paid as",
        "ledger.owed": "Owed after the caps",
        "ledger.cut": "Cut by the caps",
        "ledger.cut_value": "{amount} ({caps})",
        "ledger.computed": "Computed",
        "ledger.approved": "Approved",
        "ledger.approved_partial": "{approved} of {amount} (in part)",
        "ledger.issued": "Issued",
        "ledger.total": "Total",
        "ledger.adjustments": "Adjustments after issue",
        "ledger.col.at": "Date",
        "ledger.col.delta": "Change",
        "ledger.col.before": "Before",
        "ledger.col.after": "After",
        "ledger.col.reason": "Reason",
        "ledger.not_posted": "Not yet posted: the compensation ledger has no credit for this "
        "service and month.",
        "ledger.no_row": "no row on this statement",
        "ledger.differs": "The ledger's credit was computed as {ledger} when it was posted; "
        "this statement computes {statement}: the month changed since it was posted.",
        "ledger.state.not_posted": "not yet posted",
        "ledger.state.detected": "detected: not claimed yet",
        "ledger.state.claimed": "claimed: awaiting approval",
        "ledger.state.approved": "approved",
        "ledger.state.approved_partial": "approved in part",
        "ledger.state.denied": "denied",
        "ledger.state.issued": "issued",
        "ledger.state.applied": "applied to the bill",
        "ledger.state.expired": "expired: the claim window closed unclaimed",
        "cap.cap_pct": "the monthly cap",
        "cap.annual_cap_pct": "the 12-month cap",
        "cap.customer_cap_pct": "the customer's monthly cap",
        "appendix_ledger": "Appendix: the ledger's credits",
        "appendix_ledger_note": "Every field of each credit as slacalc ledger list prints it.",
        "appendix_credit": "B.{n} · {credit}",
        "appendix": "Appendix: the report's rows",
        "appendix_note": "Every field of the report's CSV row of each service, exactly as "
        "slacalc report prints it, for audit.",
        "appendix_row": "A.{n} · {service}",
        "see_appendix": "Every field of the report's row: appendix A.{n}.",
        "field": "Field",
        "value": "Value",
        # categories and notes
        "category.outage": "outage",
        "category.data_loss": "data loss",
        "category.maintenance": "maintenance",
        "category.excluded": "excluded",
        "note.customer_wide": "customer-wide (*) incident",
        "note.ongoing": "ongoing: counted up to the as-of time",
        "note.ends_after_as_of": "ends after the as-of time: counted up to it",
        "note.outside_month": "outside the month",
        "note.clipped": "clipped to the month",
        "note.not_downtime": "{category}: excluded from downtime",
        "note.partly_excluded": "partly inside maintenance or excluded time",
        "note.larger_impact": "a larger impact may overlap it: the largest counts",
        "note.merged_with": "merged with {ids}",
        "note.fully_excluded": "wholly inside maintenance or excluded time",
        "note.rule_ignored": "interval #{run} counts 0 under the outage rules",
        "note.rule_rounded": "interval #{run} is rounded up by the outage rules",
        "note.weighted_composite": "weighted composite: availability = ({terms}) ÷ ({total})",
        "note.error_rate_month": "measured by error rate: {intervals} intervals of {seconds} s, "
        "{with_requests} with requests, {with_errors} with errors; {failed} of {total} requests "
        "failed; mean error rate {rate} % (rounded up), counted as its equivalent downtime",
        "note.zone_down": "zone {zone} down (loss {loss}) {start} – {end} ({incident})",
        "note.zone_maintenance": "zone {zone} in maintenance {start} – {end} ({incident})",
        "note.rule_fired": "redundancy rule {rule} held {start} – {end}: the service down at loss "
        "{loss}",
        "note.rule_excluded": "redundancy rule {rule} held {start} – {end} in maintenance: "
        "excluded time",
        "note.rule_dropped": "redundancy rule {rule} held {start} – {end}, shorter than the "
        "minimum period: counts 0",
        "note.rounded_past_month": "rounded up to {rounded} s, more than the month can count: "
        "downtime stops at the month's time less excluded time ({counted} s)",
        # formula
        "note.service_hours": "period = service time in the month ({hours}): {period} s",
        "note.outage_rules": "outage rules: {runs} interval(s), {ignored} ignored; {raw} s of "
        "downtime count {counted} s",
        "f.availability": "availability = 1 − {down} s ÷ {base} = {exact} % (shown truncated "
        "to 4 decimals: {pct} %)",
        "f.base": "{period} s",
        "f.base_minus_excluded": "({period} s − {excluded} s excluded)",
        "f.target_breached": "tier reached {band}; committed target {target} % → breached",
        "f.target_met": "tier reached {band}; committed target {target} % → met",
        "f.no_compensation": "compensation = 0 (the committed target is met)",
        "f.price_coefficient": "compensation = {down} s ÷ {base} × {fee} × {coefficient} = {exact}",
        "f.price_credit": "availability below {below} % → credit {pct} % of the fee: {fee} × "
        "{pct} % = {exact}",
        "f.no_band": "compensation = 0: no band of the tier covers this availability",
        "f.cap": "cap = {cap} % of {fee} = {exact}: the cap applies",
        "f.min_credit": "below the minimum credit of {min}: no credit is issued",
        "f.rounded": "rounded half-up to {places} decimal(s): {amount}",
        "f.due": "compensation due {due} ({hours} hours after the month ends)",
        "f.claim_window": "claim window: {opens} to {closes} ({status} at the as-of time)",
        "f.claim_window_open_ended": "claim window: from {opens}, with no end ({status} at "
        "the as-of time)",
        # deadlines
        "deadlines": "Dispute deadlines",
        "deadlines_none": "No dispute deadline opens for this month.",
        "col.level": "Level",
        "col.reference": "Reference",
        "col.opened": "Opened",
        "col.due": "Due",
        "col.counting": "How it is counted",
        "col.escalation": "Escalates",
        "level.1": "1 · SLA breach: automatic compensation",
        "level.2": "2 · data loss: special investigation group",
        "level.3": "3 · resource allocation: account manager and technical expert",
        "count.hours": "{hours} hours after it opens",
        "count.working_days": "{count} working days after the opening day: {days}",
        "escalation_note": "A dispute unresolved 15 days after it opened goes to the "
        "customer-service committee, with an independent third-party audit.",
        # policy
        "policy_heading": "Policy and terms",
        "policy_name": "Name",
        "policy_title": "Title",
        "policy_services": "Applies to",
        "policy_mode": "Pricing",
        "mode.coefficient": "downtime ÷ period × monthly fee × coefficient",
        "mode.credit": "a share of the monthly fee by availability band",
        "policy_cap": "Cap",
        "policy_cap_value": "{cap} % of the monthly fee",
        "policy_source": "Source",
        "policy_read_on": "Terms read on",
        "policy_origin": "Defined in",
        "origin.built-in": "built into slacalc",
        "origin.preset": "preset shipped with slacalc",
        "col.target": "Target %",
        "col.coefficient": "Coefficient",
        "col.bands": "Credit by band",
        "band": "below {below} %: {pct} %",
        "policy_rules": "Rules",
        "rule.min_outage": "outages of {seconds} s or less count 0",
        "rule.round_up": "each outage is rounded up to a multiple of {seconds} s",
        "rule.min_credit": "credits below {amount} are not issued",
        "rule.base_minus_excluded": "excluded time is taken out of the month's length",
        "rule.service_hours": "service hours: {hours}",
        "rule.claim_window": "claim window: {opens}, {closes}",
        "rule.credit_form": "credit paid as {form}",
        "hours": "{days} {start}–{end}",
        "days.all": "every day",
        "days.working": "working days",
        "days.mon-fri": "Monday to Friday",
        "claim.opens_at_end": "opens when the month ends",
        "claim.opens_after": "opens after the {days}th working day of the next month",
        "claim.closes_months": "closes {months} month(s) after the month ends",
        "claim.closes_days": "closes {days} days after the month ends",
        "claim.never": "does not close",
        # inputs
        "inputs": "Input files",
        "inputs_note": "Both parties can check that they hold the same files: the SHA-256 of "
        "each file is computed from its bytes.",
        "col.role": "Role",
        "col.file": "File",
        "col.size": "Bytes",
        "col.sha256": "SHA-256",
        "role.incidents": "incident log",
        "role.contracts": "contracts",
        "role.policy": "policy",
        "role.holidays": "working-day overrides",
        "role.issuer": "issuer",
        "settings": "Settings",
        "setting.tz": "Time zone",
        "setting.calendar": "Working-day calendar",
        "warnings": "Warnings",
        # units
        "unit.d": "d",
        "unit.h": "h",
        "unit.m": "m",
        "unit.s": "s",
    },
    ZH: {
        "title": "服务健康报告",
        "subtitle": "{customer} · {month}",
        "customer": "客户",
        "customer_named": "{name}（{id}）",
        "statement_number": "报告编号",
        "issued_by": "出具方",
        "issuer_missing": "本报告未注明出具方：生成时未提供出具方文件"
        "（slacalc statement --issuer FILE）。",
        "tax_id": "纳税人识别号",
        "email": "电子邮箱",
        "phone": "电话",
        "labelled": "{label}：{value}",
        "period": "服务周期",
        "period_range": "{days}（{zone}，UTC{offset}）",
        "as_of": "数据截至",
        "status": "状态",
        "status.final": "最终",
        "status.provisional": "暂定：截至时间时该月尚未结束",
        "generated_by": "由 slacalc {version} 根据“输入文件”所列文件生成。",
        "times_note": "所有时间均为 {zone} 当地时间。",
        "no_services": "该客户在 {month} 没有报告记录。",
        "summary": "概览",
        "service": "服务",
        "availability": "可用性",
        "committed": "承诺目标",
        "tier_reached": "达到等级",
        "result": "结果",
        "compensation": "赔偿金额",
        "breached": "未达标",
        "met": "达标",
        "total_compensation": "赔偿合计",
        "service_heading": "服务 {service}",
        "monthly_fee": "月服务费",
        "policy": "赔偿政策",
        "downtime": "不可用时长",
        "excluded_time": "排除时长",
        "incident_count": "计入的事件数",
        "seconds_and_duration": "{seconds} 秒（{duration}）",
        "timeline": "本月时间线",
        "timeline_title": "{service} 在 {month} 的不可用时间",
        "legend.down": "不可用（颜色越深，影响越大）",
        "legend.partial": "部分影响",
        "legend.excluded": "维护 / 排除时间",
        "legend.rest": "休息日",
        "no_downtime": "本月没有不可用时间。",
        "interval_title": "{start} 至 {end}：影响 {impact}，不可用 {downtime}",
        "window_title": "{category} {start} 至 {end}",
        "incidents": "计入的事件",
        "incidents_none": "本月没有该服务的事件。",
        "incidents_outside": "另有 {count} 个该服务的事件不在本月内。",
        "col.id": "编号",
        "col.category": "类别",
        "col.impact": "影响",
        "col.as_read": "记录的开始与结束",
        "col.counted": "本月计入",
        "col.excluded": "排除",
        "col.interval": "区间",
        "col.notes": "说明",
        "col.start": "开始",
        "col.end": "结束",
        "col.length": "时长",
        "col.downtime": "不可用时长",
        "col.counted_downtime": "计入时长",
        "col.incidents": "合并的事件",
        "ongoing": "尚未结束",
        "line_ref": "第 {line} 行",
        "impact_partial": "{pct}%（部分）",
        "impact_full": "{pct}%",
        "intervals": "不可用区间",
        "intervals_note": "重叠的事件合并后只计一次；影响重叠时取最大值；维护与排除时间不计入。",
        "windows": "维护与排除时间",
        "formula": "计算过程",
        "claim": "赔偿与申请",
        "credit_form": "赔付方式",
        "credit_form.cash": "现金",
        "credit_form.account_credit": "账户余额",
        "credit_form.voucher": "代金券",
        "credit_form.service_extension": "服务时长减免",
        "credit_form.resource_grant": "资源赠送",
        "form.extension_days": "服务时长减免：延长 {days} 天",
        "form.grant_detail": "资源赠送：{grant}",
        "form.voucher_expires": "代金券，有效期至 {date}",
        "compensation_due": "赔偿截止",
        "claim_window": "申请期",
        "claim_open_ended": "起，不设截止",
        "claim_status": "截至时间的申请状态",
        "claim_status.not_open": "尚未开放",
        "claim_status.open": "可申请",
        "claim_status.claim_expired": "已过期",
        "claim_status.below_min_credit": "低于最低赔付额，不予赔付",
        "no_claim": "无赔偿：已达到承诺目标。",
        "ledger.heading": "赔偿台账记录",
        "ledger.summary": "赔偿台账汇总",
        "ledger.summary_note": "计算金额：本报告计算的赔偿金额；核准金额：台账中已核准的金额；"
        "已发放金额：已发放的金额（含调整）。",
        "ledger.credit_id": "台账编号",
        "ledger.status": "赔偿状态",
        "ledger.since": "状态日期",
        "ledger.claim": "赔偿申请",
        "ledger.claim_value": "申请编号 {reference}，{date}",
        "ledger.document": "单据编号",
        "ledger.reason": "原因",
        "ledger.paid_as": "赔付方式",
        "ledger.owed": "上限核减后应赔金额",
        "ledger.cut": "上限核减金额",
        "ledger.cut_value": "{amount}（{caps}）",
        "ledger.computed": "计算金额",
        "ledger.approved": "核准金额",
        "ledger.approved_partial": "应赔 {amount}，部分核准 {approved}",
        "ledger.issued": "已发放金额",
        "ledger.total": "合计",
        "ledger.adjustments": "发放后的调整",
        "ledger.col.at": "日期",
        "ledger.col.delta": "调整金额",
        "ledger.col.before": "调整前",
        "ledger.col.after": "调整后",
        "ledger.col.reason": "原因",
        "ledger.not_posted": "尚未入账：赔偿台账中尚无该服务本月的赔偿记录。",
        "ledger.no_row": "本报告无该服务的记录",
        "ledger.differs": "该笔赔偿入账时按 {ledger} 计算，本报告计算为 {statement}："
        "入账后该月数据已有变动。",
        "ledger.state.not_posted": "尚未入账",
        "ledger.state.detected": "已识别，待客户申请",
        "ledger.state.claimed": "已申请，待核准",
        "ledger.state.approved": "已核准",
        "ledger.state.approved_partial": "部分核准",
        "ledger.state.denied": "已驳回",
        "ledger.state.issued": "已发放",
        "ledger.state.applied": "已抵扣账单",
        "ledger.state.expired": "已失效：申请期内未申请",
        "cap.cap_pct": "月度赔偿上限",
        "cap.annual_cap_pct": "12 个月累计赔偿上限",
        "cap.customer_cap_pct": "客户月度赔偿上限",
        "appendix_ledger": "附录：台账中的赔偿记录",
        "appendix_ledger_note": "各笔赔偿在 slacalc ledger list 输出中的全部字段，"
        "原样列出，供核对。",
        "appendix_credit": "B.{n} · {credit}",
        "appendix": "附录：报告记录",
        "appendix_note": "各服务在 slacalc report 的 CSV 输出中的全部字段，原样列出，供核对。",
        "appendix_row": "A.{n} · {service}",
        "see_appendix": "该服务报告记录的全部字段见附录 A.{n}。",
        "field": "字段",
        "value": "值",
        "category.outage": "故障",
        "category.data_loss": "数据丢失",
        "category.maintenance": "维护",
        "category.excluded": "排除",
        "note.customer_wide": "全客户（*）事件",
        "note.ongoing": "尚未结束：计至截至时间",
        "note.ends_after_as_of": "结束于截至时间之后：计至截至时间",
        "note.outside_month": "不在本月内",
        "note.clipped": "已截取到本月",
        "note.not_downtime": "{category}：不计入不可用时间",
        "note.partly_excluded": "部分处于维护或排除时间内",
        "note.larger_impact": "可能与更大影响的事件重叠：取最大值",
        "note.merged_with": "与 {ids} 合并",
        "note.fully_excluded": "完全处于维护或排除时间内",
        "note.rule_ignored": "按故障规则，区间 #{run} 不计",
        "note.rule_rounded": "按故障规则，区间 #{run} 向上取整",
        "note.weighted_composite": "加权组合服务：可用性 = ({terms}) ÷ ({total})",
        "note.error_rate_month": "按错误率计量：{intervals} 个 {seconds} 秒区间，其中 "
        "{with_requests} 个有请求、{with_errors} 个有错误；{total} 个请求中 {failed} 个失败；"
        "平均错误率 {rate}%（向上取整），按等效中断时长计",
        "note.zone_down": "可用区 {zone} 中断（影响 {loss}）{start} – {end}（{incident}）",
        "note.zone_maintenance": "可用区 {zone} 维护中 {start} – {end}（{incident}）",
        "note.rule_fired": "冗余规则 {rule} 成立 {start} – {end}：服务中断，影响 {loss}",
        "note.rule_excluded": "冗余规则 {rule} 在维护期间成立 {start} – {end}：计为排除时间",
        "note.rule_dropped": "冗余规则 {rule} 成立 {start} – {end}，短于最短时长：不计",
        "note.rounded_past_month": "向上取整后为 {rounded} 秒，超过本月可计时长："
        "不可用时长以本月时长减去排除时间为限（{counted} 秒）",
        "note.service_hours": "周期 = 本月服务时间（{hours}）：{period} 秒",
        "note.outage_rules": "故障规则：{runs} 个区间，忽略 {ignored} 个；"
        "不可用 {raw} 秒，计入 {counted} 秒",
        "f.availability": "可用性 = 1 − {down} 秒 ÷ {base} = {exact}%（截断保留 4 位小数：{pct}%）",
        "f.base": "{period} 秒",
        "f.base_minus_excluded": "（{period} 秒 − 排除的 {excluded} 秒）",
        "f.target_breached": "达到等级 {band}；承诺目标 {target}% → 未达标",
        "f.target_met": "达到等级 {band}；承诺目标 {target}% → 达标",
        "f.no_compensation": "赔偿 = 0（已达到承诺目标）",
        "f.price_coefficient": "赔偿 = {down} 秒 ÷ {base} × {fee} × {coefficient} = {exact}",
        "f.price_credit": "可用性低于 {below}% → 按月服务费的 {pct}% 赔付："
        "{fee} × {pct}% = {exact}",
        "f.no_band": "赔偿 = 0：该等级没有覆盖此可用性的档位",
        "f.cap": "上限 = {fee} 的 {cap}% = {exact}：按上限赔付",
        "f.min_credit": "低于最低赔付额 {min}：不予赔付",
        "f.rounded": "四舍五入保留 {places} 位小数：{amount}",
        "f.due": "赔偿截止 {due}（当月结束后 {hours} 小时）",
        "f.claim_window": "申请期：{opens} 至 {closes}（截至时间的状态：{status}）",
        "f.claim_window_open_ended": "申请期：{opens} 起，不设截止（截至时间的状态：{status}）",
        "deadlines": "争议处理时限",
        "deadlines_none": "本月没有开启的争议时限。",
        "col.level": "级别",
        "col.reference": "对象",
        "col.opened": "开启",
        "col.due": "处理时限",
        "col.counting": "计算方式",
        "col.escalation": "升级时间",
        "level.1": "1 · SLA 未达标：自动赔偿流程",
        "level.2": "2 · 数据丢失：专项调查组",
        "level.3": "3 · 资源分配争议：客户经理与技术专家",
        "count.hours": "开启后 {hours} 小时",
        "count.working_days": "开启当日之后的 {count} 个工作日：{days}",
        "escalation_note": "争议开启 15 日后仍未解决的，提交客户服务委员会，并由独立第三方审计。",
        "policy_heading": "赔偿政策与条款",
        "policy_name": "名称",
        "policy_title": "标题",
        "policy_services": "适用服务",
        "policy_mode": "计价方式",
        "mode.coefficient": "不可用时长 ÷ 周期 × 月服务费 × 赔偿系数",
        "mode.credit": "按可用性档位赔付月服务费的一定比例",
        "policy_cap": "赔偿上限",
        "policy_cap_value": "月服务费的 {cap}%",
        "policy_source": "条款来源",
        "policy_read_on": "条款读取日期",
        "policy_origin": "定义位置",
        "origin.built-in": "slacalc 内置",
        "origin.preset": "slacalc 预置条款",
        "col.target": "目标 %",
        "col.coefficient": "赔偿系数",
        "col.bands": "各档赔付比例",
        "band": "低于 {below}%：{pct}%",
        "policy_rules": "规则",
        "rule.min_outage": "{seconds} 秒及以下的故障不计",
        "rule.round_up": "每次故障时长向上取整到 {seconds} 秒的整数倍",
        "rule.min_credit": "低于 {amount} 的赔偿不予发放",
        "rule.base_minus_excluded": "排除时间从本月时长中扣除",
        "rule.service_hours": "服务时间：{hours}",
        "rule.claim_window": "申请期：{opens}，{closes}",
        "rule.credit_form": "以{form}赔付",
        "hours": "{days} {start}–{end}",
        "days.all": "每天",
        "days.working": "工作日",
        "days.mon-fri": "周一至周五",
        "claim.opens_at_end": "当月结束时开放",
        "claim.opens_after": "次月第 {days} 个工作日之后开放",
        "claim.closes_months": "当月结束后 {months} 个月截止",
        "claim.closes_days": "当月结束后 {days} 天截止",
        "claim.never": "不设截止",
        "inputs": "输入文件",
        "inputs_note": "双方可据此核对所持文件是否一致：SHA-256 按文件字节计算。",
        "col.role": "用途",
        "col.file": "文件",
        "col.size": "字节",
        "col.sha256": "SHA-256",
        "role.incidents": "事件记录",
        "role.contracts": "合同",
        "role.policy": "赔偿政策",
        "role.holidays": "工作日调整",
        "role.issuer": "出具方",
        "settings": "设置",
        "setting.tz": "时区",
        "setting.calendar": "工作日历",
        "warnings": "提示",
        "unit.d": "天",
        "unit.h": "小时",
        "unit.m": "分",
        "unit.s": "秒",
    },
}

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse_lang(text: str) -> str:
    """``zh``, ``zh-CN``, ``zh_CN.UTF-8`` → ``zh``; ``en``, ``en-GB`` → ``en``. ValueError else."""
    code = text.strip().lower().replace("_", "-")
    for lang in LANGS:
        if code == lang or code.startswith(lang + "-") or code.startswith(lang + "."):
            return lang
    raise ValueError(f"expected one of {', '.join(LANGS)}")


def default_lang(environ: Mapping[str, str] | None = None) -> str:
    """Chinese when the locale is Chinese (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``, as
    POSIX reads them), else English."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return ZH if value.lower().startswith("zh") else EN
    return EN


@dataclass(frozen=True)
class Msg:
    """A message to be said later, in the statement's language: a key and its values (which
    may be messages themselves)."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


class Instant(NamedTuple):
    """An instant put into a message: said as a local date and time in the page's language."""

    us: int
    tz: Any


class Amount(NamedTuple):
    """An amount put into a message: its exact decimal text (``11.480734…`` may end with an
    ellipsis) and its currency, said as :meth:`Catalogue.amount` writes money."""

    digits: str
    currency: str


class Data(str):
    """Text from the input (an id, a service, a file's own time text) put into a message: it
    is shown as :func:`data_html` shows it."""


def data_html(value: Any) -> Markup:
    """Text from the input as the page shows it: HTML-escaped, its control characters and
    bidirectional controls written as escapes (``\\x1b``, ``\\u202e``, as a terminal shows
    them: no raw control byte is ever in the file), and isolated in a ``<bdi>`` so that
    right-to-left text cannot reorder what stands beside it."""
    return Markup("<bdi>{}</bdi>").format(printable(str(value)))


def data_list(values: Any, sep: str = ", ") -> Markup:
    """Several values from the input, each as :func:`data_html` shows it."""
    return Markup(sep).join(data_html(v) for v in values)


def _value(value: Any) -> Any:
    """A value put into a message: markup as it is, data isolated, other text with its
    control characters escaped (nothing raw reaches the page)."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, Data):
        return data_html(value)
    if isinstance(value, str):
        return printable(value)
    return value


@dataclass(frozen=True)
class Catalogue:
    """The messages and text forms of one language."""

    lang: str

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.lang]

    def __call__(self, key: str, **values: Any) -> Markup:
        """The message ``key`` with ``values`` put in (messages among them said first,
        instants as local dates and times in this language).

        The messages are ours, so they are markup; the values are escaped unless they are
        markup already (a figure the template wrapped in its element), :class:`Data` is
        isolated and control characters never pass (:func:`_value`). A key missing from the
        catalogue is a KeyError: nothing is shown as raw text.
        """
        text = Markup(MESSAGES[self.lang][key])
        if not values:
            return text
        return text.format(**{k: self._said(v) for k, v in values.items()})

    def _said(self, value: Any) -> Any:
        if isinstance(value, Msg):
            return self(value.key, **value.values)
        if isinstance(value, Instant):
            return self.datetime(from_us(value.us, value.tz))
        if isinstance(value, Amount):
            return self.amount(value.digits, value.currency)
        return _value(value)

    def say(self, msg: Msg) -> Markup:
        return self(msg.key, **msg.values)

    # --- dates and times ---------------------------------------------------------------------
    def date(self, day: date) -> str:
        """``4 Jun 2025`` / ``2025年6月4日``."""
        if self.lang == ZH:
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {_MONTH_ABBR[day.month - 1]} {day.year}"

    def short_date(self, day: date) -> str:
        """``4 Jun`` / ``6月4日``: a day of a list within one year."""
        if self.lang == ZH:
            return f"{day.month}月{day.day}日"
        return f"{day.day} {_MONTH_ABBR[day.month - 1]}"

    def datetime(self, dt: datetime) -> str:
        """``4 Jun 2025 00:00:00`` / ``2025年6月4日 00:00:00`` (microseconds when present)."""
        clock = dt.strftime("%H:%M:%S") + (f".{dt.microsecond:06d}" if dt.microsecond else "")
        return f"{self.date(dt.date())} {clock}"

    def period(self, first: date, last: date) -> str:
        """Whole days, both included: ``1–31 May 2025`` / ``2025年5月1日至31日``."""
        if first == last:
            return self.long_date(first)
        if self.lang == ZH:
            if (first.year, first.month) == (last.year, last.month):
                return f"{self.long_date(first)}至{last.day}日"
            if first.year == last.year:
                return f"{self.long_date(first)}至{last.month}月{last.day}日"
            return f"{self.long_date(first)}至{self.long_date(last)}"
        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day}\u2013{self.long_date(last)}"
        if first.year == last.year:
            return f"{first.day} {_MONTH_NAMES[first.month - 1]} \u2013 {self.long_date(last)}"
        return f"{self.long_date(first)} \u2013 {self.long_date(last)}"

    def long_date(self, day: date) -> str:
        """``4 June 2025`` / ``2025年6月4日``: a date with the month's full name."""
        if self.lang == ZH:
            return self.date(day)
        return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"

    def month(self, year: int, month: int) -> str:
        """``May 2025`` / ``2025年5月``."""
        if self.lang == ZH:
            return f"{year}年{month}月"
        return f"{_MONTH_NAMES[month - 1]} {year}"

    def duration(self, us: Any) -> str:
        """:func:`times.duration` with the language's units: ``1h 2m 0s`` / ``1小时 2分 0秒``."""
        text = times.duration(us)
        if self.lang == EN:
            return text
        units = {u: self(f"unit.{u}") for u in "dhms"}
        return " ".join(part[:-1] + units[part[-1]] for part in text.split())

    # --- money -------------------------------------------------------------------------------
    # One notation on every page, in both languages: the ISO 4217 code, a no-break space, and
    # the amount with its currency's own decimals, its digits grouped by thousands with "," and
    # "." before the decimals: "CNY 12,000.00", "JPY 120,000", "KWD 1,234.500". It is CLDR's
    # form with the ISO code for both en and zh (both group by three with "," and "."). A symbol
    # would not do: "¥" is both CNY and JPY, and a statement may hold both.
    def amount_parts(self, digits: str, currency: str) -> tuple[str, str]:
        """The currency part (the code, after a minus sign if any) and the grouped digits of an
        amount's exact decimal text: ``("CNY", "12,000.00")``."""
        sign = "-" if digits.startswith("-") else ""
        return f"{sign}{currency}", grouped(digits.removeprefix("-"))

    def amount(self, digits: str, currency: str) -> str:
        """An amount's exact decimal text as money: ``CNY 12,000.00``, ``CNY 11.480734…``."""
        code, text = self.amount_parts(digits, currency)
        return f"{code}\u00a0{text}"

    def money(self, value: Decimal, currency: str) -> str:
        """An amount in ``currency`` with exactly its decimals (:func:`money.format_money`,
        exact: no binary float on the way), as :meth:`amount` writes it: ``JPY 120,000``."""
        return self.amount(money.format_money(value, currency), currency)


def grouped(digits: str) -> str:
    """Decimal text with its whole part grouped by thousands: ``1234567.891…`` →
    ``1,234,567.891…`` (the decimals, and anything after them, stay as they are)."""
    whole, dot, rest = digits.partition(".")
    head = len(whole) % 3 or 3
    groups = [whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))]
    return ",".join(groups) + dot + rest
