/**
 * Who is told what (DESIGN.md §5, API.md Notifications): for each notification
 * type, the recipients as relations to the order, resolved from roles and
 * scope by the worker, and the zh-CN text. Nobody outside these is told.
 */
export type RecipientKind =
  | 'requester'
  | 'community_staff' // staff of the order's community
  | 'department_staff' // staff of the department named by the event, else the order's
  | 'offered_org_admins' // admins of the organisation named by the event
  | 'serving_org_admins' // admins of every organisation serving the order's district
  | 'accepting_org_admins' // admins of the organisation named by the event, else the order's
  | 'involved_org_admins' // admins of the accepting and the offered organisation
  | 'district_coordinators'
  | 'listed_volunteers' // the volunteers the event lists in payload.volunteerIds (invited, eligible for open slots, cancelled, removed by a reschedule)
  | 'confirmed_volunteers' // volunteers with a confirmed assignment on the order now
  | 'listed_users' // the users the message lists in payload.userIds (messages about no order: applications, sign-ups)
  | 'listed_phone' // the bare number in payload.phone, by SMS only, no inbox (a sign-up code for a phone with no account yet)
  | 'community_residents' // residents of the order's community who have not turned event news off (preferences `events`)
  | 'event_attendees' // users with a confirmed sign-up to the order's published event
  | 'event_signups'; // users with a confirmed or waiting sign-up to the order's published event

export interface NotificationFacts {
  /** Empty for a message about no order. */
  orderCode: string;
  orderTitle: string;
  /** The message payload's string fields (e.g. a code, an organisation's name), for texts that need more than the order. */
  text: Readonly<Record<string, string>>;
  reason?: string | null;
  /** The event's time, already formatted for people (Asia/Shanghai). */
  when?: string | null;
}

export interface NotificationRule {
  recipients: readonly RecipientKind[];
  /** Urgent messages go out at night too; others wait for the end of quiet hours. */
  isUrgent: boolean;
  title: string | ((facts: NotificationFacts) => string);
  body: (facts: NotificationFacts) => string;
}

export const titleOf = (rule: NotificationRule, facts: NotificationFacts): string => (typeof rule.title === 'string' ? rule.title : rule.title(facts));

const withReason = (text: string, reason?: string | null) => (reason ? `${text}原因：${reason}` : text);

export const NOTIFICATION_RULES: Readonly<Record<string, NotificationRule>> = {
  'order.submitted': {
    recipients: ['community_staff'],
    isUrgent: false,
    title: '新的科普服务需求',
    body: (f) => `居民提交了需求「${f.orderTitle}」（${f.orderCode}），请审核并派单。`,
  },
  'order.dispatched': {
    recipients: ['department_staff'],
    isUrgent: false,
    title: '社区派单待领取',
    body: (f) => `需求「${f.orderTitle}」（${f.orderCode}）已派给本部门，请领单或退回。`,
  },
  'order.declined': {
    recipients: ['requester', 'community_staff'],
    isUrgent: false,
    title: '部门退回了需求',
    body: (f) => withReason(`需求「${f.orderTitle}」（${f.orderCode}）被部门退回社区，待重新派单。`, f.reason),
  },
  'order.claimed': {
    recipients: ['requester'],
    isUrgent: false,
    title: '需求已被部门领取',
    body: (f) => `您的需求「${f.orderTitle}」（${f.orderCode}）已由部门领取，正在安排志愿组织。`,
  },
  'order.offered': {
    recipients: ['offered_org_admins'],
    isUrgent: false,
    title: '部门邀请您接单',
    body: (f) => `部门将需求「${f.orderTitle}」（${f.orderCode}）派给贵组织，请接单。`,
  },
  'order.opened': {
    recipients: ['serving_org_admins'],
    isUrgent: false,
    title: '本区有可接的科普需求',
    body: (f) => `需求「${f.orderTitle}」（${f.orderCode}）已向本区所有志愿组织开放，先接先得。`,
  },
  'order.accepted': {
    recipients: ['requester', 'department_staff'],
    isUrgent: false,
    title: '志愿组织已接单',
    body: (f) => `需求「${f.orderTitle}」（${f.orderCode}）已由志愿组织接单，即将安排时间、场地和志愿者。`,
  },
  'order.released': {
    recipients: ['department_staff'],
    isUrgent: false,
    title: '志愿组织退回了订单',
    body: (f) => withReason(`志愿组织退回了需求「${f.orderTitle}」（${f.orderCode}），请重新安排。`, f.reason),
  },
  'order.rejected': {
    recipients: ['requester'],
    isUrgent: false,
    title: '需求未通过审核',
    body: (f) => withReason(`您的需求「${f.orderTitle}」（${f.orderCode}）未通过社区审核。`, f.reason),
  },
  'order.merged': {
    recipients: ['requester'],
    isUrgent: false,
    title: '需求已与相同需求合并',
    body: (f) => `您的需求「${f.orderTitle}」（${f.orderCode}）与社区内相同的需求合并办理。`,
  },
  'order.cancelled': {
    recipients: ['requester', 'community_staff', 'department_staff', 'involved_org_admins', 'listed_volunteers'],
    isUrgent: true,
    title: '订单已取消',
    body: (f) => withReason(`需求「${f.orderTitle}」（${f.orderCode}）已取消。`, f.reason),
  },
  'order.expired': {
    recipients: ['requester', 'district_coordinators'],
    isUrgent: false,
    title: '需求已过期',
    body: (f) => `需求「${f.orderTitle}」（${f.orderCode}）在期望时间结束前未能排期，已过期。`,
  },
  'order.scheduled': {
    recipients: ['requester', 'community_staff'],
    isUrgent: false,
    title: '活动已排期',
    body: (f) => `需求「${f.orderTitle}」（${f.orderCode}）已确定时间和场地${f.when ? `：${f.when}` : ''}。`,
  },
  'assignment.invited': {
    recipients: ['listed_volunteers'],
    isUrgent: false,
    title: '志愿服务邀请',
    body: (f) => `您被邀请参加「${f.orderTitle}」（${f.orderCode}）${f.when ? `，时间：${f.when}` : ''}，请确认。`,
  },
  'assignment.declined': {
    recipients: ['accepting_org_admins'],
    isUrgent: false,
    title: '志愿者婉拒了邀请',
    body: (f) => withReason(`志愿者婉拒了「${f.orderTitle}」（${f.orderCode}）的邀请，请另行安排。`, f.reason),
  },
  'assignment.withdrawn': {
    recipients: ['accepting_org_admins'],
    isUrgent: false,
    title: '志愿者退出了活动',
    body: (f) => `一名志愿者退出了「${f.orderTitle}」（${f.orderCode}），空出的名额已重新开放。`,
  },
  'assignment.cancelled': {
    recipients: ['listed_volunteers'],
    isUrgent: true,
    title: '志愿服务安排已取消',
    body: (f) => withReason(`您在「${f.orderTitle}」（${f.orderCode}）${f.when ? `（${f.when}）` : ''}的志愿服务安排已取消，无需到场。`, f.reason),
  },
  'task.open': {
    recipients: ['listed_volunteers'],
    isUrgent: false,
    title: '有可认领的志愿任务',
    body: (f) => `「${f.orderTitle}」（${f.orderCode}）${f.when ? `（${f.when}）` : ''}还有空缺名额，欢迎认领。`,
  },
  'event.reminder': {
    recipients: ['confirmed_volunteers', 'requester', 'event_attendees'],
    isUrgent: true,
    title: '活动即将开始',
    body: (f) => `「${f.orderTitle}」（${f.orderCode}）即将开始${f.when ? `：${f.when}` : ''}。`,
  },
  'order.completed': {
    recipients: ['requester', 'community_staff'],
    isUrgent: false,
    title: '活动已完成，请评价',
    body: (f) => `「${f.orderTitle}」（${f.orderCode}）已完成，欢迎对服务内容、志愿者和守时情况进行评价。`,
  },
  'rating.reminder': {
    recipients: ['requester'],
    isUrgent: false,
    title: '请评价已完成的活动',
    body: (f) => `「${f.orderTitle}」（${f.orderCode}）已完成三天，欢迎评价；七天内未评价的订单将自动关闭。`,
  },
  'rating.low': {
    recipients: ['district_coordinators'],
    isUrgent: false,
    title: '收到低分评价',
    body: (f) => withReason(`「${f.orderTitle}」（${f.orderCode}）收到 2 分及以下的评价，请关注。`, f.reason),
  },
  'sla.breached': {
    recipients: ['district_coordinators'],
    isUrgent: false,
    title: '订单超时未处理',
    body: (f) => `需求「${f.orderTitle}」（${f.orderCode}）${f.reason ?? '超过时限'}，请督办。`,
  },
  'order.reassigned': {
    // Sent twice per reassign: once naming the new department, once the old one (payload.departmentId).
    recipients: ['department_staff'],
    isUrgent: false,
    title: (f) => (f.text.side === 'from' ? '订单已由协调员改派' : '协调员改派订单待领取'),
    body: (f) =>
      f.text.side === 'from'
        ? withReason(`需求「${f.orderTitle}」（${f.orderCode}）已由区协调员改派给其他部门，本部门无需继续处理。`, f.reason)
        : withReason(`区协调员将需求「${f.orderTitle}」（${f.orderCode}）改派给本部门，请尽快领单。`, f.reason),
  },
  'order.urgent': {
    recipients: ['district_coordinators'],
    isUrgent: true,
    title: '紧急科普需求',
    body: (f) => `本区有紧急科普需求「${f.orderTitle}」（${f.orderCode}），各环节时限已缩短，请关注。`,
  },
  // Published events and sign-ups (DESIGN.md §10).
  'event.published': {
    recipients: ['community_residents'],
    isUrgent: false,
    title: '社区有新的科普活动',
    body: (f) => `「${f.orderTitle}」${f.when ? `（${f.when}）` : ''}开放报名${f.text.seats ? `，共 ${f.text.seats} 个名额` : ''}，欢迎参加。`,
  },
  'signup.confirmed': {
    recipients: ['listed_users'],
    isUrgent: false,
    title: '报名成功',
    body: (f) => `您已报名「${f.orderTitle}」${f.when ? `（${f.when}）` : ''}，入场码 ${f.text.ticketCode ?? ''}。`,
  },
  'signup.promoted': {
    recipients: ['listed_users'],
    isUrgent: true,
    title: '候补转为报名成功',
    body: (f) => `有人取消报名，您在「${f.orderTitle}」${f.when ? `（${f.when}）` : ''}的候补已转为报名成功，入场码 ${f.text.ticketCode ?? ''}。`,
  },
  'event.changed': {
    recipients: ['event_signups'],
    isUrgent: true,
    title: '活动时间或地点有变',
    body: (f) => `您报名的「${f.orderTitle}」已调整${f.when ? `，新的时间：${f.when}` : ''}，请留意。`,
  },
  'event.cancelled': {
    recipients: ['event_signups'],
    isUrgent: true,
    title: '活动已取消',
    body: (f) => withReason(`您报名的「${f.orderTitle}」已取消，无需到场。`, f.reason),
  },
  // Messages about no order: the recipients are listed in the payload (listed_users, listed_phone).
  'auth.phone_code': {
    recipients: ['listed_phone'],
    isUrgent: true,
    title: '验证码',
    body: (f) => `【科普派单】您的验证码是 ${f.text.code ?? ''}，${f.text.minutes ?? '5'} 分钟内有效，请勿告诉他人。`,
  },
  'volunteer_application.submitted': {
    recipients: ['listed_users'],
    isUrgent: false,
    title: '新的志愿者申请',
    body: (f) => `${f.text.applicantName ?? '一位居民'}申请加入${f.text.organizationName ?? '贵组织'}，请审核。`,
  },
  'volunteer_application.approved': {
    recipients: ['listed_users'],
    isUrgent: false,
    title: '志愿者申请已通过',
    body: (f) => `您加入${f.text.organizationName ?? '志愿组织'}的申请已通过，欢迎成为科普志愿者。`,
  },
  'volunteer_application.rejected': {
    recipients: ['listed_users'],
    isUrgent: false,
    title: '志愿者申请未通过',
    body: (f) => withReason(`您加入${f.text.organizationName ?? '志愿组织'}的申请未通过。`, f.reason),
  },
};

/** Event types that only move the order along without telling anyone. */
export const isNotified = (type: string): boolean => type in NOTIFICATION_RULES;
