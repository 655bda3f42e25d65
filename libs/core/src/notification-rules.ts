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
  | 'confirmed_volunteers'; // volunteers with a confirmed assignment on the order now

export interface NotificationFacts {
  orderCode: string;
  orderTitle: string;
  reason?: string | null;
  /** The event's time, already formatted for people (Asia/Shanghai). */
  when?: string | null;
}

export interface NotificationRule {
  recipients: readonly RecipientKind[];
  /** Urgent messages go out at night too; others wait for the end of quiet hours. */
  isUrgent: boolean;
  title: string;
  body: (facts: NotificationFacts) => string;
}

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
    recipients: ['confirmed_volunteers', 'requester'],
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
};

/** Event types that only move the order along without telling anyone. */
export const isNotified = (type: string): boolean => type in NOTIFICATION_RULES;
