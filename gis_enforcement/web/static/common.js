/* What both pages share: words in two languages, signing in (tokens kept on the device so that a patrol page
   opened offline still knows its officer), calling /api/v1 with the token, and small formatters.
   Plain browser JavaScript, no build step. */
"use strict";

const GISE = (() => {
  const WORDS = {
    zh: {
      app_patrol: "巡查上报", app_console: "吹哨报到 调度台", lang: "English", sign_in: "登录", sign_out: "退出",
      username: "用户名", password: "密码", online: "在线", offline: "离线",
      signin_failed: "登录失败", network_down: "网络不可用", network_retry: "网络不可用：请检查网络连接后再试",
      patrol_start: "开始巡查", patrol_stop: "结束巡查", patrol_on: "巡查中，已记录轨迹点",
      plan_period: "行动时段", plan_over: "已过期", plan_no_target: "无目标",
      role_name_patrol: "巡查员", role_name_township_dispatcher: "街乡调度员", role_name_department_officer: "部门执法人员",
      role_name_department_chief: "部门负责人", role_name_supervisor: "区级督查", role_name_admin: "系统管理员",
      minutes_n: "{n} 分钟", need_rating: "请先选择两项评分（报到及时、处置到位）", not_summoned: "未召集",
      reopened_when: "案件已于 {at} 重新打开", reopened_when_by: "案件已于 {at} 由 {by} 重新打开", reopened_resumed: "主责部门已恢复处置", reopened_next: "待主责部门（{lead}）恢复处置，或重新吹哨",
      history: "办理记录", kind_whistle: "吹哨", kind_report_in: "报到", kind_warning: "警示", kind_case_in_action: "开始处置",
      kind_enforcement_record: "执法记录", kind_resolve: "办结", kind_resume: "恢复处置", kind_verify: "核查",
      kind_close: "结案", kind_reopen: "重新打开", kind_rating: "评价", kind_follow_up_request: "部门要求",
      kind_follow_up_done: "街乡落实", kind_photo: "照片", kind_triage: "分拨", kind_decline: "申请退回",
      kind_overrule: "驳回退回", kind_release: "放行", kind_complete: "本部门处置完毕", kind_reported: "上报",
      kind_start_action: "开始处置",
      patrol_off: "未在巡查", track_points: "个轨迹点", track_dropped: "已略去 {n} 个异常轨迹点",
      track_bad_time: "手机时间与服务器不符，请校准手机的日期和时间", track_bad_jump: "定位点离前一点过远（定位漂移）",
      new_report: "新建上报", category: "问题类别", category_search: "搜索类别（名称或编号）",
      recent: "最近使用", lead: "主责部门", max_accuracy: "精度要求",
      locate: "获取定位", locating: "正在定位…", accuracy: "精度", no_fix: "尚未定位",
      fix_poor: "定位精度不足：±{acc} 米，超过本类别要求的 {max} 米",
      fix_confirm: "精度不足，仍然提交（需说明）", fix_good: "定位精度满足要求",
      photos: "现场照片", photo_add: "拍照 / 选择照片", exif_time: "拍摄时间", exif_pos: "拍摄位置",
      exif_none: "照片无拍摄信息", description: "情况描述", save: "保存并上报",
      need_category: "请选择问题类别", need_fix: "请先获取定位", need_confirm: "定位精度不足，请确认后再提交",
      saved: "已保存，将在联网时自动上报",
      queue: "上报记录", queue_empty: "暂无上报", state_queued: "排队中", state_sending: "发送中",
      state_accepted: "已受理", state_rejected: "被退回", fix_it: "修改后重新上报", remove: "删除",
      sync_now: "立即同步", photos_pending: "张照片待发送",
      cases: "案件", filter_status: "状态", filter_category: "类别", all: "全部",
      detail: "案件详情", choose_case: "从地图或列表中选择一个案件",
      whistle: "吹哨", whistled: "已吹哨", plan: "拟吹哨部门（依权责清单）", role_lead: "主责", role_assist: "配合",
      report_in_minutes: "报到时限（分钟）", assignments: "报到情况", department: "部门", due: "报到截止",
      countdown: "倒计时", reported_in: "已报到", late: "超时", status: "状态",
      verify: "核查通过", reopen: "重新打开", reopen_reason: "重新打开的原因", rate: "评价", rate_time: "报到及时",
      rate_adequacy: "处置到位", rate_send: "提交评价", neighbour: "邻街乡",
      location: "位置", zones: "所在区域", flags: "标记", observed: "发现时间", reporter: "上报人",
      my_assignments: "本部门任务", report_in: "报到（现场定位）", report_in_ok: "已报到，距案件 {d} 米",
      action: "执法记录", action_type: "执法措施", officer: "执法人员", penalty: "罚款（元）", record: "记录",
      start: "开始处置", complete: "本部门处置完毕", resolve: "报告办结", resolve_summary: "办结情况",
      follow_up: "要求街乡落实（部门要求）", follow_up_task: "需街乡落实的事项", working_days: "工作日",
      send: "发送", warnings: "警示", evaluation: "考核评价", maps: "热点与街乡地图", plans: "联合执法计划",
      execute: "执行（一次吹哨）", executed: "已执行", no_items: "暂无", score: "得分",
      by_department: "按部门", by_township: "按街乡", live: "实时", live_off: "未连接",
      new_case: "新案件", done: "完成", open_map: "打开地图", photo_upload: "上传照片",
      time: "时间", level: "级别", rule: "规则", subject: "对象", case: "案件", consequence: "后果",
      created: "制定时间", targets: "目标数",
      asg_summoned: "待报到", asg_reported_in: "已报到", asg_acting: "处置中", asg_done: "已完成",
      asg_declined: "已退单", asg_released: "已放行",
      field_observed_at: "发现时间", field_category: "问题类别", field_accuracy_m: "定位精度", field_geometry: "位置",
      field_position: "报到位置", field_description: "情况描述", field_id: "编号", field_file: "照片",
      field_username: "用户名", field_password: "密码", field_status: "状态", field_task: "落实事项",
      field_reason: "原因", field_summary: "办结情况", field_action_type: "执法行为种类", field_officer: "执法人员",
      field_measures: "执法措施", field_ground: "退单依据", field_department: "部门",
      field_reporter: "上报人", field_lon: "经度", field_lat: "纬度", field_crs: "坐标系", field_photos: "照片",
      field_track_id: "巡查轨迹", field_working_days: "工作日", field_penalty_amount: "罚款金额",
      field_fixed_at: "定位时间", field_device_time: "手机时间",
      measures: "采取的措施（依权责清单）", measures_none: "本类别清单未列措施", action_kind: "执法行为种类",
      action_kind_choose: "请选择", need_action: "请选择执法行为种类",
      resolution_due: "办结期限", resolution_left: "距办结期限",
      start_first: "先点“开始处置”，再记录执法情况", done_wait_resolve: "本部门已处置完毕，待报告办结", reopened_resume: "案件已重新打开，待本部门恢复处置",
      resume: "恢复处置（重新打开的案件）", decline: "退单", decline_reason: "退单原因", decline_ground: "退单依据",
      ground_none: "无（配合部门）", ground_wrong_category: "案件类别有误", ground_outside_jurisdiction: "不属本部门管辖范围",
      release: "解除召集", overrule: "驳回退单", close: "结案", asg_reason: "解除召集 / 驳回退单的原因",
      need_reason: "请先填写原因", rated: "已评价", pending_close: "尚未结案：",
      patrol_here: "巡查员请使用巡查上报页面：", patrol_link: "打开巡查上报（/app/patrol）",
      geo_failed: "定位失败", geo_denied: "定位权限被拒绝：请在浏览器或系统设置中允许本页面使用位置，然后再试",
      geo_unavailable: "无法获取位置（无卫星或网络信号），请到开阔处再试", geo_timeout: "定位超时，请再试一次",
      all_open: "全部未结", no_match: "无匹配的类别", sent_now: "已上报", role: "角色",
      level_notice: "提示", level_yellow: "黄色", level_red: "红色",
      plan_draft: "待执行", plan_planned: "待执行", plan_executed: "已执行", plan_cancelled: "已取消",
      ev_rank: "排名", ev_name: "名称", ev_score: "得分", ev_deduction: "扣分(每百次)", ev_deduction_cases: "扣分(每百件)", ev_score_base: "扣前得分", ev_warning_points: "警示分",
      ev_reports: "上报", ev_untriaged: "未处理", ev_triage_on_time_rate: "分拣及时率", ev_small_sample: "样本少", ev_whistles: "接哨数", ev_report_in_rate: "报到率",
      ev_on_time_rate: "报到及时率", ev_duty_rate: "职权履行率", ev_resolution_rate: "办结率", ev_whistled_resolution_rate: "已吹哨案件解决率",
      ev_outcome_rate: "解决不反弹率", ev_adequate_rate: "执法到位率", ev_rating_score: "街乡评价",
      ev_actions: "执法记录数", ev_penalty_amount: "罚款（元）", ev_warnings: "警示数", ev_recurrences: "反弹预警(W08)",
      ev_cases: "案件数", ev_whistled: "已吹哨", ev_share_whistled: "吹哨率", ev_whistles_sent: "吹哨次数",
      ev_summons: "召集部门次", ev_month: "月份", ev_period_bad: "考核期无法识别",
      /* the console's and the patrol page's own */
      resume_owed: "待恢复处置", resume_left: "剩", choose_task: "从列表中选择一个任务", close_refused: "尚不能结案：",
      assists_pending: "配合部门 {list} 尚未处置完毕或解除召集——请等待或解除召集", flag_low_accuracy: "定位精度低（±{acc} 米）",
      flag_outside_district: "区界外", flag_near_border: "临界（靠近街乡边界）", flag_no_village: "未匹配到村/社区",
      likely_duplicate: "疑似重复：与已上报的案件相距 {d} 米", open_first: "查看原案件", duplicate_hint: "请先查看原案件，确认不是同一问题后再吹哨",
      recurrence: "原案件 {id} 办结后复发（相距 {d} 米）", tag_duplicate: "疑似重复", tag_recurrence: "复发", lead_whistle: "吹哨配合部门",
      lead_whistle_send: "吹哨", lead_whistle_none: "清单所列配合部门均已召集", lead_whistle_choose: "请选择要召集的配合部门",
      lead_whistled: "已吹哨配合部门", records: "本案执法记录", records_none: "尚无执法记录", recording: "正在记录…",
      penalty_yuan: "罚款 ¥{n}", ev_ranking: "排名类别", ranking_lead: "主责", ranking_assist: "配合", ranking_township_team: "街乡执法队",
      ev_whistle_on_time_rate: "吹哨及时率", ev_review_on_time_rate: "核查及时率", ev_follow_up_on_time_rate: "落实及时率",
      ev_no_recurrence_rate: "解决不反弹率", ev_own_warnings: "自身警示", ev_dept_warnings: "部门警示",
      ev_township_recurrences: "反弹(W08)", kind_mark_duplicate: "标记重复", kind_reject: "不予受理", kind_reinstate: "恢复受理", kind_reclassify: "改类", kind_whistle_joint: "联合执法吹哨（区）",
      neighbour_case: "此案件属{township}，由{township}吹哨处置；本镇（街道）因其靠近边界可查看，如属本镇请联系{township}。",
      outside_case: "此报告位于区界外，可能属于：{list}；由其中之一核实后吹哨。",
      near_border_of: "临界：位置靠近{list}的边界，请核实归属后再吹哨",
      own_picture: "本镇情况：反复点位与部门报到", own_sites: "反复点位（回头看）", own_site_reports: "上报",
      own_site_returns: "复发", own_site_due: "回头看日期", overdue: "已逾期", own_departments: "部门在本镇案件上的表现（{month}）",
      own_whistles: "召集", own_on_time: "按时报到", own_late: "迟到", own_absent: "未到", own_declined: "退单",
      own_unsatisfied: "不满意", own_warnings: "警示",
      map_kind_dispatch: "吹哨报到", map_open_full: "在新窗口打开整页：{title}",
      desk_title: "待我处理", desk_triage: "待分拣", desk_classify: "类别待定", desk_declined: "退单待定",
      desk_report_in_overdue: "报到超时", desk_verify: "待核查", desk_border_reported: "邻乡边界待分拣",
      follow_ups_title: "部门要求、街乡落实", follow_up_note: "落实情况（可选）", follow_up_done: "已落实",
      cases_of_item: "{item}：{n} 件", cases_shown_of: "显示最新 {n} 件，共 {total} 件", cases_n: "共 {n} 件",
      classify_first: "类别待定：请先核实并改类，再吹哨", classify_first_hint: "巡查员看不准类别。请根据描述和照片选定问题类别，系统按权责清单重新确定主责和配合部门。",
      whistle_title: "吹哨", whistle_may_add: "可增派（权责清单所列部门）：", whistle_will_summon: "将召集：{list}。",
      whistle_confirm: "确认吹哨", whistle_choose: "请至少选择一个部门", cancel: "取消",
      reclassify_title: "改类", reclassify_to: "改为类别", reclassify_pick: "选择正确的问题类别…", reclassify_reason: "改类说明（可选）",
      reclassify_need: "请选择要改为的类别", reclassify: "改类", reclassified: "已改类为 {name}", reported_as: "巡查员上报为：{name}",
      rate_5: "满意", rate_4: "较满意", rate_3: "基本满意", rate_2: "不满意", rate_1: "很不满意", rate_comment: "评价说明",
      rate_poor_reason: "评为不满意须写明原因", rate_poor_warns: "处置评为不满意将对该部门记 W04 警示（扣2分），评价提交后不能修改。",
      rate_confirm: "确认提交",
      mark_duplicate: "标记重复", reject: "不予受理", reinstate: "恢复受理", triage_title: "分拣", duplicate_of_label: "原案件编号",
      reject_reason: "不予受理的原因", reinstate_reason: "恢复受理的原因", need_first_case: "请填写原案件编号",
      marked_duplicate_of: "已标记为案件 {id} 的重复", rejected_because: "不予受理：{reason}", dup_bad_id: "原案件编号无效：请填写完整的案件编号",
      dup_not_found: "找不到原案件，请核对编号", dup_self: "不能标记为本案件自身的重复", dup_first_closed: "原案件本身已是重复或不予受理，请填写在办的原案件",
      dup_far: "原案件不在本街乡或相邻街乡", dup_none: "本案件没有疑似重复的原案件，请填写原案件编号", lead_pending: "主责部门 {list} 尚未办结",
      overdue_n: "已超时 {n} 分钟", overdue_days: "已超时 {n} 天", days_hours: "{d} 天 {h} 小时", follow_up_due: "落实期限", own_team: "本镇综合执法队", team_suffix: "综合执法队", rebound_place: "反弹点位",
      whole_district: "全区", overdue_late_until: "{at} 前报到记迟到，之后记未报到", overdue_absent: "{at} 前未报到，记未报到",
      legal_basis: "法律依据",
      signout_unsent: "还有 {n} 条上报未发送：退出后将保留在本机，待您再次登录时发送。确定退出？", signout_confirm: "确定退出登录？",
      fix_reason_needed: "定位精度不足：请在情况描述中说明原因", sent_photos_dropped: "已上报（{n} 张照片未上传，见上报记录）",
      photo_too_big: "照片 {name} 超过 {mb} MB，未上传", photo_not_image: "照片 {name} 不是图片，未上传",
      photo_refused: "照片 {name} 未上传：{why}", photo_big_warn: "照片 {name} 超过 {mb} MB，服务器不会接收：请换一张或压缩后再选",
      course_done: "已处置完毕", awaiting: "待报到", stood_down: "已解除", duplicate_of: "可能与 {at} 的上报重复（{m} 米）",
      spot_came_back: "该点位曾办结后复发", change_category: "更换类别",
      unsure_category_info: "看不准类别时选此项：由街乡指挥中心核实分类后再吹哨，请在描述中写清看到了什么",
      /* a report-in taken without signal, kept on the device and sent once online (the console) */
      ri_queued: "已记录报到，待发送（无信号）· {at}", ri_queued_banner: "{n} 条报到待发送（无信号）：恢复网络后自动发送，按定位时间计时",
      ri_queued_already: "本任务已有一条报到待发送（{at}），恢复网络后自动发送", ri_send_now: "立即发送",
      ri_sent_on_time: "报到已送达 · 准时", ri_sent_late: "报到已送达 · 迟到 {n} 分钟", ri_refused: "报到未被接受：{why}", ri_waited: "无信号待发 {n} 分钟", ri_withdrew: "{rules} 已撤销（按定位时间未缺席）",
      warning_withdrawn: "已撤销 {at}：{why}",
      signout_unsent_report_in: "还有 {n} 条报到未发送：退出后将保留在本机，待您再次登录并联网时发送。确定退出？",
      /* the department's desk opened with no signal: its assignments as last loaded on this device */
      asg_offline: "离线 · 上次更新 {at}",
      asg_offline_hint: "连不上服务器，显示本机上次保存的任务。离线时只能报到（记录在本机，恢复网络后自动发送）；开始处置、执法记录、照片、要求街乡落实、退单须联网后进行。",
      asg_offline_none: "离线：本机没有保存的任务列表（请联网后打开一次本页）",
      asg_offline_only: "离线：只能报到；其他操作须恢复网络后进行",
      asg_offline_nothing: "离线时此任务无可执行的操作",
      session_expired: "登录已过期，请重新登录",
      session_expired_queued: "登录已过期，请重新登录：{n} 条报到待发送，登录后自动发送",
    },
    en: {
      app_patrol: "Patrol report", app_console: "Whistle & report console", lang: "中文", sign_in: "Sign in",
      sign_out: "Sign out", username: "User name", password: "Password", online: "online", offline: "offline",
      signin_failed: "Sign-in failed", network_down: "No network",
      network_retry: "No network: check the connection and try again",
      patrol_start: "Start patrol", patrol_stop: "End patrol", patrol_on: "On patrol, track points recorded",
      plan_period: "Period", plan_over: "period over", plan_no_target: "no target",
      role_name_patrol: "patrol", role_name_township_dispatcher: "township dispatcher",
      role_name_department_officer: "department officer", role_name_department_chief: "department chief",
      role_name_supervisor: "supervisor", role_name_admin: "administrator",
      minutes_n: "{n} min", need_rating: "Choose both scores (on time, adequate) first", not_summoned: "not summoned",
      reopened_when: "Reopened {at}", reopened_when_by: "Reopened {at} by {by}", reopened_resumed: "The lead has resumed", reopened_next: "Waiting for the lead ({lead}) to resume, or whistle again",
      history: "Record", kind_whistle: "whistle", kind_report_in: "report-in", kind_warning: "warning",
      kind_case_in_action: "in action", kind_enforcement_record: "enforcement record", kind_resolve: "resolved",
      kind_resume: "resumed", kind_verify: "verified", kind_close: "closed", kind_reopen: "reopened",
      kind_rating: "rating", kind_follow_up_request: "follow-up asked", kind_follow_up_done: "follow-up done",
      kind_photo: "photo", kind_triage: "triage", kind_decline: "declined", kind_overrule: "overruled",
      kind_release: "released", kind_complete: "part done", kind_reported: "reported", kind_start_action: "started",
      patrol_off: "Not on patrol", track_points: "track points", track_dropped: "{n} positions left out",
      track_bad_time: "the phone's clock disagrees with the server's: set its date and time",
      track_bad_jump: "a position too far from the one before (a GPS jump)",
      new_report: "New report", category: "Problem category", category_search: "Search categories (name or code)",
      recent: "Recent", lead: "Lead department", max_accuracy: "Accuracy needed",
      locate: "Get position", locating: "Locating…", accuracy: "accuracy", no_fix: "No position yet",
      fix_poor: "Position too rough: ±{acc} m, the category needs {max} m",
      fix_confirm: "Send anyway despite the rough position", fix_good: "Position accurate enough",
      photos: "Photos", photo_add: "Take / choose photos", exif_time: "Taken", exif_pos: "Taken at",
      exif_none: "No capture data in the photo", description: "Description", save: "Save and send",
      need_category: "Choose a problem category", need_fix: "Get a position first",
      need_confirm: "The position is too rough: confirm to send anyway",
      saved: "Saved; it is sent when the network is back",
      queue: "My reports", queue_empty: "No reports yet", state_queued: "queued", state_sending: "sending",
      state_accepted: "accepted", state_rejected: "rejected", fix_it: "Correct and send again", remove: "Remove",
      sync_now: "Send now", photos_pending: "photos to send",
      cases: "Cases", filter_status: "Status", filter_category: "Category", all: "all",
      detail: "Case", choose_case: "Choose a case on the map or in the list",
      whistle: "Whistle", whistled: "Whistled", plan: "Departments to whistle (from the lists)", role_lead: "lead",
      role_assist: "assist", report_in_minutes: "Report-in minutes", assignments: "Report-in",
      department: "Department", due: "Report in by", countdown: "Left", reported_in: "reported in", late: "late",
      status: "Status", verify: "Verified", reopen: "Reopen", reopen_reason: "Why it is reopened", rate: "Rate",
      rate_time: "On time", rate_adequacy: "Adequate", rate_send: "Send rating", neighbour: "neighbour",
      location: "Location", zones: "Zones", flags: "Flags", observed: "Observed", reporter: "Reporter",
      my_assignments: "Our assignments", report_in: "Report in (position on site)",
      report_in_ok: "Reported in, {d} m from the case", action: "Enforcement record", action_type: "Measure",
      officer: "Officer", penalty: "Penalty (yuan)", record: "Record", start: "Start enforcing",
      complete: "Our part is done", resolve: "Report resolved", resolve_summary: "What was done",
      follow_up: "Ask the township to follow up", follow_up_task: "What the township must do",
      working_days: "working days", send: "Send", warnings: "Warnings", evaluation: "Evaluation",
      maps: "Hot-spot and township maps", plans: "Joint operations", execute: "Execute (one whistle)",
      executed: "executed", no_items: "none", score: "score", by_department: "by department",
      by_township: "by township", live: "live", live_off: "not connected", new_case: "new case", done: "Done",
      open_map: "Open map", photo_upload: "Upload photo",
      time: "time", level: "level", rule: "rule", subject: "subject", case: "case", consequence: "consequence",
      created: "made", targets: "targets",
      asg_summoned: "summoned", asg_reported_in: "reported in", asg_acting: "acting", asg_done: "done",
      asg_declined: "declined", asg_released: "released",
      measures: "Measures taken (from the lists)", measures_none: "The lists name no measure for this category",
      action_kind: "Kind of action", action_kind_choose: "choose…", need_action: "Choose the kind of action",
      resolution_due: "Resolve by", resolution_left: "to resolve:",
      start_first: "Press “Start enforcing” before recording an action", done_wait_resolve: "Our part is done; the case awaits the resolution report", reopened_resume: "The case was reopened: resume it",
      resume: "Resume (reopened case)", decline: "Decline", decline_reason: "Why it is declined", decline_ground: "Ground",
      ground_none: "none (assisting department)", ground_wrong_category: "wrong category", ground_outside_jurisdiction: "outside our jurisdiction",
      release: "Release", overrule: "Overrule decline", close: "Close case", asg_reason: "Reason for a release or an overrule",
      need_reason: "Give a reason first", rated: "rated", pending_close: "Not closed yet: ",
      patrol_here: "Patrol officers file reports on the patrol page: ", patrol_link: "Open the patrol page (/app/patrol)",
      geo_failed: "Position failed", geo_denied: "Location permission denied: allow this page to use the position in the browser or phone settings, then try again",
      geo_unavailable: "No position available (no satellite or network signal); try again in the open", geo_timeout: "Locating timed out; try again",
      all_open: "all open", no_match: "No matching category", sent_now: "Sent", role: "Role",
      level_notice: "notice", level_yellow: "yellow", level_red: "red",
      plan_draft: "to execute", plan_planned: "to execute", plan_executed: "executed", plan_cancelled: "cancelled",
      ev_rank: "rank", ev_name: "name", ev_score: "score", ev_deduction: "deducted (per 100)", ev_deduction_cases: "deducted (per 100 cases)", ev_score_base: "before deduction", ev_warning_points: "warning points",
      ev_reports: "reports", ev_untriaged: "untriaged", ev_triage_on_time_rate: "triaged on time", ev_small_sample: "few", ev_whistles: "whistles", ev_report_in_rate: "report-in rate",
      ev_on_time_rate: "on-time rate", ev_duty_rate: "duty rate", ev_resolution_rate: "resolution rate", ev_whistled_resolution_rate: "whistled cases resolved",
      ev_outcome_rate: "no-recurrence rate", ev_adequate_rate: "adequate rate", ev_rating_score: "township rating",
      ev_actions: "actions", ev_penalty_amount: "penalties (yuan)", ev_warnings: "warnings", ev_recurrences: "recurrences",
      ev_cases: "cases", ev_whistled: "whistled", ev_share_whistled: "share whistled", ev_whistles_sent: "whistles sent",
      ev_summons: "summons", ev_month: "month", ev_period_bad: "The period is not understood",
      /* the console's and the patrol page's own */
      resume_owed: "to resume", resume_left: "left", choose_task: "Choose a task in the list",
      close_refused: "Cannot close yet: ",
      assists_pending: "assisting departments {list} not done or released: wait or release them",
      flag_low_accuracy: "rough position (±{acc} m)", flag_outside_district: "outside the district",
      flag_near_border: "near a township border", flag_no_village: "no village matched",
      likely_duplicate: "Likely duplicate: {d} m from a case already reported", open_first: "Open the first case",
      duplicate_hint: "Open the first case and make sure it is another problem before whistling",
      recurrence: "Came back after case {id} was closed ({d} m away)", tag_duplicate: "likely duplicate",
      tag_recurrence: "came back", lead_whistle: "Whistle assisting departments", lead_whistle_send: "Whistle",
      lead_whistle_none: "Every assisting department of the lists is summoned",
      lead_whistle_choose: "Choose the departments to summon", lead_whistled: "Assists whistled",
      records: "Enforcement records of the case", records_none: "No enforcement record yet", recording: "Recording…",
      penalty_yuan: "fine ¥{n}", ev_ranking: "Ranking", ranking_lead: "lead", ranking_assist: "assist", ranking_township_team: "township team",
      ev_whistle_on_time_rate: "Whistled on time", ev_review_on_time_rate: "Reviewed on time",
      ev_follow_up_on_time_rate: "Follow-ups on time", ev_no_recurrence_rate: "No recurrence",
      ev_own_warnings: "Own warnings", ev_dept_warnings: "Department warnings",
      ev_township_recurrences: "Recurrences (W08)", kind_mark_duplicate: "marked duplicate", kind_reject: "declined",
      kind_reinstate: "taken back", mark_duplicate: "Mark duplicate", reject: "Decline", reinstate: "Take back",
      kind_reclassify: "reclassified", kind_whistle_joint: "joint operation whistle (district)",
      neighbour_case: "This case lies in {township}, which whistles for it; you see it because it is near your border. If it is yours, call {township}.",
      outside_case: "This report lies outside the district; it may belong to: {list}, one of which checks and whistles.",
      near_border_of: "Near the border of {list}: check whose it is before whistling",
      own_picture: "Our township: recurring sites and the departments' record", own_sites: "Recurring sites (look again)",
      own_site_reports: "reports", own_site_returns: "came back", own_site_due: "look again by", overdue: "overdue",
      own_departments: "Departments on our cases ({month})", own_whistles: "summoned", own_on_time: "on time",
      own_late: "late", own_absent: "absent", own_declined: "declined", own_unsatisfied: "poor rating", own_warnings: "warnings",
      map_kind_dispatch: "Whistle and report-in", map_open_full: "Open the whole page: {title}",
      desk_title: "Waiting for you", desk_triage: "To triage", desk_classify: "Category unknown", desk_declined: "Declines to decide",
      desk_report_in_overdue: "Report-in overdue", desk_verify: "To verify", desk_border_reported: "Neighbours' border reports",
      follow_ups_title: "Tasks from departments", follow_up_note: "What was done (optional)", follow_up_done: "Done",
      cases_of_item: "{item}: {n}", cases_shown_of: "newest {n} of {total}", cases_n: "{n} cases",
      classify_first: "Category unknown: classify it before whistling",
      classify_first_hint: "The patrol could not tell. Choose the category from its words and photos; the lists then name the lead and assisting departments.",
      whistle_title: "Whistle", whistle_may_add: "May add (named by the lists):", whistle_will_summon: "Will summon: {list}.",
      whistle_confirm: "Confirm whistle", whistle_choose: "Choose at least one department", cancel: "Cancel",
      reclassify_title: "Reclassify", reclassify_to: "New category", reclassify_pick: "Choose the right category…",
      reclassify_reason: "Why (optional)", reclassify_need: "Choose the category", reclassify: "Reclassify",
      reclassified: "Reclassified as {name}", reported_as: "Reported as: {name}",
      rate_5: "very good", rate_4: "good", rate_3: "fair", rate_2: "poor", rate_1: "very poor", rate_comment: "Comment",
      rate_poor_reason: "A poor rating needs a reason", rate_poor_warns: "A poor rating of the duty raises W04 on the department (2 points); a rating cannot be changed.",
      rate_confirm: "Confirm",
      triage_title: "Triage", duplicate_of_label: "First case id", reject_reason: "Why it is declined",
      reinstate_reason: "Why it is taken back", need_first_case: "Give the first case's id",
      marked_duplicate_of: "Marked a duplicate of case {id}", rejected_because: "Declined: {reason}",
      dup_bad_id: "Not a case id: give the whole id", dup_not_found: "No such first case: check the id",
      dup_self: "A case is not a duplicate of itself",
      dup_first_closed: "That case is a duplicate or declined itself: give the case in hand",
      dup_far: "That case is neither in this township nor in a neighbouring one",
      dup_none: "No likely duplicate was found: give the first case's id",
      lead_pending: "lead department {list} has not finished", overdue_n: "{n} min overdue", overdue_days: "{n} days overdue", days_hours: "{d} d {h} h", follow_up_due: "Due",
      own_team: "our township's enforcement team", team_suffix: " enforcement team", rebound_place: "place the problem came back", whole_district: "whole district",
      overdue_late_until: "a report-in before {at} counts late, after that absent",
      overdue_absent: "not in by {at}: counts absent", legal_basis: "Legal basis",
     
      signout_unsent: "{n} report(s) not sent yet: they stay on this phone and are sent when you sign in again. Sign out?",
      signout_confirm: "Sign out?", fix_reason_needed: "Poor GPS fix: say why in the description",
      sent_photos_dropped: "Sent ({n} photo(s) not uploaded: see the reports below)",
      photo_too_big: "photo {name} is over {mb} MB: not uploaded",
      photo_not_image: "photo {name} is not an image: not uploaded",
      photo_refused: "photo {name} not uploaded: {why}",
      photo_big_warn: "photo {name} is over {mb} MB; the server will refuse it", course_done: "done",
      awaiting: "awaited", stood_down: "released", duplicate_of: "may repeat the report of {at} ({m} m)",
      spot_came_back: "this spot came back after a closed case", change_category: "Change category",
      unsure_category_info: "When you cannot tell the category: the township desk classifies it before any whistle; describe what you see",
      ri_queued: "Report-in recorded, to be sent (no signal) · {at}",
      ri_queued_banner: "{n} report-in(s) waiting for signal: sent by themselves once online, timed at their position",
      ri_queued_already: "A report-in of this task is already waiting to be sent ({at}); it is sent once online",
      ri_send_now: "Send now", ri_sent_on_time: "Report-in delivered · on time", ri_sent_late: "Report-in delivered · {n} min late",
      ri_refused: "Report-in not accepted: {why}", ri_waited: "waited {n} min for signal", ri_withdrew: "{rules} withdrawn (there in time by its fix)",
      warning_withdrawn: "withdrawn {at}: {why}",
      signout_unsent_report_in: "{n} report-in(s) not sent yet: they stay on this device and are sent when you sign in again online. Sign out?",
      asg_offline: "offline · last updated {at}",
      asg_offline_hint: "The server cannot be reached: these are the tasks as last kept on this device. Offline, only the report-in is possible (kept on the device, sent by itself once online); start, records, photos, follow-up requests and declines need the network.",
      asg_offline_none: "Offline: no task list kept on this device (open this page once online)",
      asg_offline_only: "Offline: report-in only; everything else once the network is back",
      asg_offline_nothing: "Nothing to do on this task while offline",
      session_expired: "The sign-in has expired: please sign in again",
      session_expired_queued: "The sign-in has expired: please sign in again; {n} report-in(s) waiting are sent once you are signed in",
    },
  };
  const STATUS = {
    zh: { reported: "已上报", triaged: "已分拣", whistled: "已吹哨", in_action: "执法中", resolved: "已办结",
      verified: "已核查", closed: "已结案", reopened: "重新打开", rejected: "不予受理", duplicate: "重复" },
    en: { reported: "reported", triaged: "triaged", whistled: "whistled", in_action: "in action",
      resolved: "resolved", verified: "verified", closed: "closed", reopened: "reopened", rejected: "rejected",
      duplicate: "duplicate" },
  };

  /* Refusals in Chinese, by the server's machine codes (the English page keeps the server's own message).
     A refused row of a report carries ``code`` = "<field>:<kind>" (gis_enforcement.patrol.report.ROW_ERROR_CODES,
     every one of which has a text here: tests/web/test_refusal_words.py) and the ``values`` its reason names,
     put in for {name}; a code not here falls back to the server's English reason. */
  const ROW_REASONS = {
    "type:feature": "上报内容不是 GeoJSON 要素（Feature），无法读取",
    "properties:object": "上报的属性（properties）不是对象，无法读取",
    "geometry:point": "位置必须是一个点（GeoJSON Point）",
    "geometry.coordinates:pair": "位置坐标应为 [经度, 纬度]",
    "photos:list": "照片须为照片列表",
    "id:missing": "缺少上报编号（由手机生成）",
    "id:format": "上报编号无效（不是 UUID）",
    "category:missing": "未选择问题类别",
    "category:unknown": "问题类别“{value}”不在问题清单中，请重新选择",
    "lon:number": "经度不是数字",
    "lon:range": "经度超出范围（{min} 至 {max} 度）",
    "lat:number": "纬度不是数字",
    "lat:range": "纬度超出范围（{min} 至 {max} 度）",
    "crs:unknown": "坐标系无法识别，可用：{allowed}",
    "accuracy_m:number": "定位精度不是有效的米数",
    "accuracy_m:range": "定位精度须在 {min} 至 {max} 米之间",
    "observed_at:missing": "缺少发现时间",
    "observed_at:format": "发现时间无法识别",
    "observed_at:future": "发现时间晚于服务器当前时间（允许误差 {skew_min} 分钟）：请检查手机的日期和时间，校准后重新获取定位再上报",
    "observed_at:past": "发现时间早于 {earliest}：请检查手机的日期和时间",
    "reporter:length": "上报人超过 {max} 个字",
    "description:length": "情况描述超过 {max} 个字，请精简",
    "photos:count": "照片过多：一次上报最多 {max} 张",
    "photos:reference": "照片引用无效（应为已上传照片的编号或网址）",
    "track_id:format": "巡查轨迹编号无效（不是 UUID）",
    "id:batch_conflict": "同一编号在本批上报中出现两次且内容不同",
    "id:conflict": "该编号已上报过且内容不同：请删除本条后重新填报",
    "id:concurrent": "该编号正由另一次发送同时保存，请稍后再发送",
  };
  /* the chain's states and moves, for "cannot <action> in state <current>" (detail.current / action / allowed) */
  const ACTIONS_ZH = { report_in: "报到", start_action: "开始处置", complete: "本部门处置完毕", decline: "退单",
    overrule: "驳回退单", release: "解除召集", reopen: "重新打开", triage: "分拣", reject: "不予受理",
    mark_duplicate: "标记重复", reinstate: "恢复受理", whistle: "吹哨", resolve: "报告办结", verify: "核查通过",
    close: "结案", resume: "恢复处置", reclassify: "改类" };

  let lang = localStorage.getItem("gise.lang") || "zh";
  if (!WORDS[lang]) lang = "zh";

  function t(key, vars) {
    let s = (WORDS[lang] && WORDS[lang][key]) || WORDS.zh[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
    return s;
  }
  function statusName(s) { return (STATUS[lang] && STATUS[lang][s]) || s; }
  function applyWords(root) {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    for (const el of (root || document).querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    for (const el of (root || document).querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
    for (const el of (root || document).querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  }
  function switchLanguage() {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("gise.lang", lang);
    applyWords();
    document.dispatchEvent(new CustomEvent("gise:language"));
  }

  /* ---- signing in: the access token (15 min) is renewed with the refresh token (spent once) ---- */
  const AUTH_KEY = "gise.auth";
  function session() {
    try { return JSON.parse(localStorage.getItem(AUTH_KEY) || "null"); } catch { return null; }
  }
  function keep(s) { if (s) localStorage.setItem(AUTH_KEY, JSON.stringify(s)); else localStorage.removeItem(AUTH_KEY); }

  async function tokenRequest(form) {
    const r = await fetch("/api/v1/auth/token", { method: "POST", body: new URLSearchParams(form),
      credentials: "same-origin" });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new ApiError(r.status, data);
    return { access: data.access_token, refresh: data.refresh_token, expiresAt: Date.now() + data.expires_in * 1000 };
  }
  async function signIn(username, password) {
    const tokens = await tokenRequest({ grant_type: "password", username, password });
    keep(tokens);
    const me = await api("/api/v1/auth/me");
    keep({ ...tokens, me });
    return me;
  }
  let refreshing = null;
  /* the answers that refuse the refresh token itself (used, revoked, expired, malformed): the sign-in is over. A
     server that cannot answer now (5xx — a proxy whose platform is out of reach —, 408, 429) or no network leaves
     the tokens on the device for the next try: an officer without signal keeps the sign-in its queued report-ins
     need */
  const REFRESH_REFUSED = new Set([400, 401, 403, 422]);
  async function renew() {
    const s = session();
    if (!s || !s.refresh) return false;
    refreshing = refreshing || tokenRequest({ grant_type: "refresh_token", refresh_token: s.refresh })
      .then((tokens) => { keep({ ...s, ...tokens }); return true; })
      .catch((e) => { if (e instanceof ApiError && REFRESH_REFUSED.has(e.status)) keep(null); return false; })
      .finally(() => { refreshing = null; });
    return refreshing;
  }
  function signOut() { keep(null); location.reload(); }

  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || `HTTP ${status}`);
      this.status = status; this.code = e.code; this.field = e.field; this.detail = e.detail; this.body = body;
    }
    /* the refusal in the page's language: in Chinese by its code, field and detail (refusalZh) where known;
       else the server's reason (English), led by the field's name in the page's language:
       "发现时间: is in the future (observed_at)" */
    describe() {
      const zh = lang === "zh" ? refusalZh(this) : null;
      if (zh) return zh;
      return english(this.message, this.field);
    }
  }
  class NetworkError extends Error {}

  function english(message, field) {
    if (!field) return message;
    const label = WORDS[lang][`field_${field.split(/[.[]/)[0]}`];   // English pages: the field's own name says it
    return `${label ? `${label}: ` : ""}${message} (${field})`;
  }
  function fill(text, values) {
    const v = { ...(values || {}) };
    if (typeof v.skew_s === "number") v.skew_min = Math.round(v.skew_s / 60);
    return text.replace(/\{(\w+)\}/g, (all, k) => (v[k] === undefined || v[k] === null ? all
      : Array.isArray(v[k]) ? v[k].join("、") : typeof v[k] === "number" ? v[k].toLocaleString("zh-CN") : String(v[k])));
  }
  /* one refused row of a report ({row, field, reason, code, values}) in Chinese, or its English reason */
  function rowReasonZh(e) {
    const text = ROW_REASONS[e.code];
    return text ? fill(text, e.values) : english(e.reason, e.field);
  }
  const metres = (m) => Math.round(m).toLocaleString("zh-CN");
  const stateZh = (s) => WORDS.zh[`asg_${s}`] || STATUS.zh[s] || s;
  const actionZh = (a) => ACTIONS_ZH[a] || a;
  /* the common refusals of the chain in Chinese, from the error's code, field and detail; null when this one is
     not among them (the caller then shows the server's message) */
  function refusalZh(e) {
    const d = e.detail || {};
    const rows = Array.isArray(d.errors) ? d.errors.filter((x) => x && x.code) : [];
    if (rows.length && rows.some((x) => ROW_REASONS[x.code])) return rows.map(rowReasonZh).join("；");
    if (e.field === "position" && typeof d.distance_m === "number") {
      const allowed = typeof d.allowed_m === "number" ? d.allowed_m : d.geofence_m;
      const caseSlack = d.case_allowance_m > 0 && typeof d.case_accuracy_m === "number"
        ? `；案件位置本身精度仅 ±${metres(d.case_accuracy_m)} 米，已放宽 ${metres(d.case_allowance_m)} 米` : "";
      const slack = d.accuracy_allowance_m || caseSlack
        ? `（报到范围 ${metres(d.geofence_m)} 米，含定位误差 ${metres(d.accuracy_allowance_m || 0)} 米${caseSlack}）` : "";
      return `报到位置距案件 ${metres(d.distance_m)} 米，须在 ${metres(allowed)} 米以内${slack}：请到现场后再报到`;
    }
    if (e.code === "already_recorded" && d.reported_in_at) {
      const timing = d.on_time === true ? "，按时" : d.on_time === false
        ? `，超时 ${Math.round(d.minutes_late || 0).toLocaleString("zh-CN")} 分钟` : "";
      return `本部门已于 ${when(d.reported_in_at)} 报到${timing}；报到只记录一次（当前状态：${stateZh(d.current)}）`;
    }
    if (e.code === "already_summoned") {
      const deps = [...new Set((d.already_summoned || []).map((x) => x.department))];
      return `所列部门均已召集到本案件，无需再次吹哨${deps.length ? `（${deps.join("、")}）` : ""}`;
    }
    if (e.field === "status" && d.current && d.action) {
      const allowed = Array.isArray(d.allowed) ? d.allowed : [];
      const open = allowed.length ? `可以：${allowed.map(actionZh).join("、")}`
        : d.by === "department" ? "此状态下由街乡决定" : d.by === "township" ? "此状态下由部门处理" : "此状态下无可执行的操作";
      return `当前状态为“${stateZh(d.current)}”，不能${actionZh(d.action)}；${open}`;
    }
    if (e.field === "reason" && e.code === "invalid_input") return `${d.action ? actionZh(d.action) : "此操作"}需要填写原因`;
    if (e.field === "ground" && d.warning_rule) {
      return `退单依据：本部门是清单所列主责部门，退单须选择依据（案件类别有误 / 不属本部门管辖范围）；无依据退单无效、维持主责（${d.warning_rule}）`;
    }
    if (QUEUED_ZH[d.kind] && (e.field === "fixed_at" || e.field === "device_time")) return QUEUED_ZH[d.kind](d);
    if (FIELD_KIND_ZH[`${e.field}:${d.kind}`]) return FIELD_KIND_ZH[`${e.field}:${d.kind}`](d);
    if (e.status === 403) return "无权执行此操作：超出本账号的角色或所属单位";
    if (e.code === "invalid_input" && d.kind && KIND_ZH[d.kind] && e.field) {
      const words = KIND_ZH[d.kind](d.limit);
      const label = WORDS.zh[`field_${e.field.split(/[.[]/)[0]}`];
      if (words) return label ? `${label}${words}` : `${words}（${e.field}）`;
    }
    if (e.status === 429) return `操作过于频繁，请${d.retry_after ? ` ${d.retry_after} 秒后` : "稍后"}再试`;
    return null;
  }
  /* refusals the chain words by their field and ``detail.kind`` */
  const FIELD_KIND_ZH = {
    "category:classify_first": () => "类别待定的案件须先改类，才能吹哨；改类时须选定具体的问题类别",
    "category:unknown": () => "问题类别不在清单中，请从列表中选择",
    "category:unchanged": () => "案件已是该类别，无需改类",
    "penalty_amount:not_a_penalty": () => "罚款金额只能记在“行政处罚”类的执法记录上：请将执法类型选为行政处罚，或清空罚款金额",
    "file:format": () => "照片格式不支持：只接受 JPEG、PNG 或 WebP 图片",
  };
  /* a queued report-in (taken without signal, sent later) the server could not time at its position, by
     ``detail.kind`` */
  const QUEUED_ZH = {
    needs_device_time: () => "待发送的报到缺少发送时间，无法计算在手机中等待的时长：请到现场重新报到",
    fixed_after_sent: () => "定位时间晚于发送时间（手机时间被更改）：无法按定位时间计时，请到现场重新报到",
    queued_too_long: (d) => `报到在手机中等待了 ${num(Math.round((d.queued_s || 0) / 360) / 10)} 小时，超过 ` +
      `${num((d.max_queued_s || 0) / 3600)} 小时，不再按定位时间计时：请到现场重新报到`,
    before_whistle: () => "按等待时长推算，定位时间早于吹哨时间：报到不能早于吹哨，请到现场重新报到",
  };
  /* a refused input by its kind (pydantic's error type) and limit, as the API gives them in ``detail``; null
     where the kind needs a limit that is not given */
  const num = (v) => (typeof v === "number" ? v.toLocaleString("zh-CN", { maximumFractionDigits: 2 }) : null);
  const KIND_ZH = {
    less_than_equal: (l) => num(l) && `须不大于 ${num(l)}`,
    less_than: (l) => num(l) && `须小于 ${num(l)}`,
    greater_than_equal: (l) => (l === 0 ? "不能为负" : num(l) && `须不小于 ${num(l)}`),
    greater_than: (l) => (l === 0 ? "须大于 0" : num(l) && `须大于 ${num(l)}`),
    string_too_short: (l) => (l === 1 ? "不能为空" : num(l) && `至少 ${num(l)} 个字`),
    string_too_long: (l) => num(l) && `最多 ${num(l)} 个字`,
    too_short: (l) => (l === 1 ? "不能为空" : num(l) && `至少 ${num(l)} 项`),
    too_long: (l) => num(l) && `最多 ${num(l)} 项`,
    missing: () => "必须填写",
    int_parsing: () => "须为整数", int_from_float: () => "须为整数", float_parsing: () => "须为数字",
    decimal_parsing: () => "须为数字", bool_parsing: () => "须为是或否",
  };
  /* why the phone's position could not be had (permission denied, no signal, timed out), in the page's words */
  function geoReason(e) {
    const key = { 1: "geo_denied", 2: "geo_unavailable", 3: "geo_timeout" }[e && e.code];
    return key ? t(key) : `${t("geo_failed")}: ${String((e && e.message) || e)}`;
  }
  /* any failure of a call, as the page shows it: a refusal (describe), a network failure, or what went wrong */
  function failureText(e) {
    if (e instanceof ApiError) return e.describe();
    if (e instanceof NetworkError) return t("network_retry");
    return String((e && e.message) || e);
  }

  /* fetch /api/v1 with the token; renews it once when it has expired; JSON in and out unless told otherwise */
  async function api(path, opts = {}) {
    const s = session();
    if (s && s.expiresAt && Date.now() > s.expiresAt - 30000) await renew();
    const call = async () => {
      const headers = { ...(opts.headers || {}) };
      const cur = session();
      if (cur && cur.access) headers.Authorization = `Bearer ${cur.access}`;
      let body = opts.body;
      if (body !== undefined && !(body instanceof FormData) && typeof body !== "string") {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(body);
      }
      try {
        return await fetch(path, { method: opts.method || "GET", headers, body, credentials: "same-origin" });
      } catch (e) {
        throw new NetworkError(String(e));
      }
    };
    let r = await call();
    if (r.status === 401 && await renew()) r = await call();
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    if (!r.ok) throw new ApiError(r.status, data);
    return opts.withStatus ? { status: r.status, data } : data;
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  /* the device's local time with its offset, as the intake wants (ISO 8601, timezone-aware): an exact instant
     whatever the device's zone, so what is sent (observed_at, device_time, track points) needs no district zone */
  function isoLocal(d) {
    const p = (n) => String(n).padStart(2, "0");
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
      `${p(d.getSeconds())}${sign}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  }
  /* the district's time zone, served with the page (<meta name="gise-timezone">, from settings.timezone): times are
     shown on the district's clock, not the browser's. A zone the browser does not know leaves it its own */
  const ZONE = (() => {
    const tag = document.querySelector('meta[name="gise-timezone"]');
    const zone = tag && tag.content;
    if (!zone) return undefined;
    try { new Intl.DateTimeFormat("en", { timeZone: zone }); return zone; } catch { return undefined; }
  })();
  const formats = {};
  /* "11/27 19:06": month, day and time on the district's clock (hourCycle h23: midnight is 00:xx, never 24:xx) */
  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const locale = lang === "zh" ? "zh-CN" : "en-GB";
    // a time of another year than this one says its year: a 2024 report must not read as this season's
    const key = yearOf(d) === yearOf(new Date()) ? locale : `${locale}/y`;
    formats[key] = formats[key] || new Intl.DateTimeFormat(locale, { timeZone: ZONE, hourCycle: "h23",
      ...(key === locale ? {} : { year: "numeric" }), month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    return formats[key].format(d);
  }
  /* the year of a time in the district's zone */
  const yearFormat = new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, year: "numeric" });
  function yearOf(d) { return yearFormat.format(d); }
  /* "12:05" left, or "-3:20" past the deadline; two days or more in days and hours ("154 天 3 小时") */
  function countdown(ms) {
    const neg = ms < 0; let s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600); s -= h * 3600; const m = Math.floor(s / 60); s -= m * 60;
    if (h >= 48) return `${neg ? "-" : ""}${t("days_hours", { d: Math.floor(h / 24), h: h % 24 })}`;
    const p = (n) => String(n).padStart(2, "0");
    return `${neg ? "-" : ""}${h ? `${h}:${p(m)}` : m}:${p(s)}`;
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function notice(target, kind, text) {
    target.replaceChildren(el("div", { class: `notice ${kind}`, role: kind === "bad" ? "alert" : "status", text }));
  }
  function position(options) {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error("geolocation unavailable")); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject,
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 0, ...(options || {}) });
    });
  }
  function lang_() { return lang; }

  /* the sign-in form of both pages, in ``card``; ``onSignedIn(me)`` once the user is in */
  function mountSignIn(card, onSignedIn) {
    const user = el("input", { id: "username", name: "username", type: "text", autocomplete: "username", required: true });
    const pass = el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const msg = el("div", { id: "signin-msg" });
    const form = el("form", { id: "signin", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const me = await signIn(user.value.trim(), pass.value);
        pass.value = "";
        onSignedIn(me);
      } catch (e) {
        // a refused sign-in does not say which of the two was wrong, nor names a field
        const why = !(e instanceof ApiError) ? t("network_down")
          : e.status === 401 && lang === "zh" ? "用户名或密码错误" : e.describe();
        notice(msg, "bad", lang === "zh" ? `${t("signin_failed")}：${why}` : `${t("signin_failed")}: ${why}`);
      }
    } }, el("label", { for: "username", "data-t": "username" }), user, el("label", { for: "password", "data-t": "password" }), pass,
    msg, el("button", { type: "submit", class: "primary", "data-t": "sign_in" }));
    card.replaceChildren(el("h2", { id: "signin-title", "data-t": "sign_in" }), form);
    applyWords(card);
  }

  return { t, statusName, applyWords, switchLanguage, session, signIn, signOut, renew, api, ApiError, NetworkError,
    failureText, rowReasonCodes: () => Object.keys(ROW_REASONS),
    uuid, isoLocal, when, zone: () => ZONE, countdown, el, notice, position, mountSignIn, lang: lang_, geoReason };
})();
