/** Seeded catalogue codes; the codes are part of the HTTP contract (DESIGN.md §1). */
export const TOPICS = [
  { code: 'health', name: '健康科普' },
  { code: 'medicine_use', name: '合理用药' },
  { code: 'digital_skills', name: '老年人智能技术' },
  { code: 'anti_fraud', name: '防范电信诈骗' },
  { code: 'emergency', name: '应急科普' },
  { code: 'fire_safety', name: '消防安全' },
  { code: 'food_safety', name: '食品安全' },
  { code: 'environment', name: '生态环保与垃圾分类' },
  { code: 'agriculture', name: '农业技术' },
  { code: 'ai_frontier', name: '人工智能与前沿科技' },
  { code: 'astronomy', name: '天文' },
  { code: 'experiments', name: '动手实验' },
  { code: 'psychology', name: '心理健康' },
] as const;

/** The outline's key groups (重点人群). */
export const AUDIENCES = [
  { code: 'youth', name: '青少年' },
  { code: 'farmers', name: '农民' },
  { code: 'workers', name: '产业工人' },
  { code: 'elderly', name: '老年人' },
  { code: 'officials', name: '领导干部和公务员' },
  { code: 'new_economy_workers', name: '新就业形态劳动者' },
  { code: 'general', name: '社会公众' },
] as const;

export const FORMATS = [
  { code: 'lecture', name: '讲座' },
  { code: 'workshop', name: '工作坊' },
  { code: 'science_show', name: '科学秀' },
  { code: 'exhibition', name: '展览（含流动科技馆）' },
  { code: 'consultation', name: '咨询' },
  { code: 'visit', name: '参观科普基地' },
  { code: 'online', name: '线上' },
] as const;

export const ACCESSIBILITY_FEATURES = ['wheelchair', 'hearing_loop', 'sign_language_interpreter', 'large_print'] as const;

export type TopicCode = (typeof TOPICS)[number]['code'];
export type AudienceCode = (typeof AUDIENCES)[number]['code'];
export type FormatCode = (typeof FORMATS)[number]['code'];
export type AccessibilityFeature = (typeof ACCESSIBILITY_FEATURES)[number];

export const TOPIC_CODES: readonly string[] = TOPICS.map((t) => t.code);
export const AUDIENCE_CODES: readonly string[] = AUDIENCES.map((a) => a.code);
export const FORMAT_CODES: readonly string[] = FORMATS.map((f) => f.code);
