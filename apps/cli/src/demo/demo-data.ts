import { createHash } from 'node:crypto';
import type { WeeklyWindow } from '@kepu/core';

/**
 * The fixed facts of the demo (npm run demo:seed): which districts, the
 * departments, organisations and venues of each, names, titles. Everything
 * else is derived from these with a seeded generator, so two runs plan the
 * same world under the same planning keys (the services choose the real ids).
 */

/** The one password of every demo account (README, "Demo"): development and demos only. */
export const DEMO_PASSWORD = 'kepu-demo-1';

/** Real NBS codes: the seed reads each district's communities from the imported regions. */
export const DEMO_DISTRICTS = [
  { code: '110101', slug: 'dongcheng', name: '东城区', hasFarms: false },
  { code: '110105', slug: 'chaoyang', name: '朝阳区', hasFarms: false },
  { code: '110108', slug: 'haidian', name: '海淀区', hasFarms: false },
  { code: '110115', slug: 'daxing', name: '大兴区', hasFarms: true },
] as const;
export type DemoDistrictSpec = (typeof DEMO_DISTRICTS)[number];

/** Communities per district that get staff, residents, venues and orders. */
export const COMMUNITIES_PER_DISTRICT = 8;

/** District departments (区科协, 区卫健委…): the suffix of the username, the name after the district's, the topics they take. */
export const DISTRICT_DEPARTMENTS = [
  { key: 'kexie', name: '科协', topics: ['ai_frontier', 'astronomy', 'experiments', 'digital_skills', 'environment'] },
  { key: 'weijian', name: '卫健委', topics: ['health', 'medicine_use', 'psychology', 'food_safety'] },
  { key: 'yingji', name: '应急管理局', topics: ['emergency', 'fire_safety'] },
  { key: 'gongan', name: '公安分局', topics: ['anti_fraud'] },
] as const;
export const FARM_DEPARTMENT = { key: 'nongye', name: '农业农村局', topics: ['agriculture', 'food_safety'] } as const;
export const CITY_DEPARTMENT = { key: 'city.sciencecenter', name: '北京科学中心', topics: ['astronomy', 'experiments', 'ai_frontier'] } as const;

/** Each district's own team; the city-wide ones serve all four districts. */
export const districtOrganizationName = (districtName: string): string => `${districtName}科技馆志愿服务队`;
export const CITY_ORGANIZATIONS = [
  { key: 'city.youth', name: '北京青年科普志愿服务总队' },
  { key: 'city.seniors', name: '北京老科技工作者协会科普团' },
] as const;
export const VOLUNTEERS_PER_DISTRICT_ORGANIZATION = 45;
export const VOLUNTEERS_PER_CITY_ORGANIZATION = 22;
/** The first volunteers of each organisation: available every day and named first for upcoming events, so their logins have something to see. */
export const FEATURED_VOLUNTEERS_PER_ORGANIZATION = 3;

/** Kinds as POST /venues takes them (VENUE_KINDS): a library hall is `other`, the 新时代文明实践中心 a `practice_station`. */
export const DISTRICT_VENUES = [
  { key: 'library', name: '图书馆报告厅', kind: 'other', capacity: 200, accessibility: ['wheelchair', 'hearing_loop', 'large_print'] },
  { key: 'practice', name: '新时代文明实践中心', kind: 'practice_station', capacity: 150, accessibility: ['wheelchair', 'hearing_loop', 'sign_language_interpreter', 'large_print'] },
  { key: 'museum', name: '青少年科技馆', kind: 'science_base', capacity: 300, accessibility: ['wheelchair', 'large_print'] },
  { key: 'school', name: '第一中学礼堂', kind: 'school', capacity: 400, accessibility: ['wheelchair'] },
] as const;

export const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'];
export const GIVEN_NAMES = [
  '伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀兰', '霞',
  '平', '刚', '桂英', '建华', '文', '华', '红', '建国', '志强', '晓东', '海燕', '雪梅', '子涵', '欣怡', '浩然', '宇航', '思远', '佳琪', '梓萱', '俊杰',
  '淑珍', '玉兰', '国庆', '卫东', '晨曦', '嘉怡', '一鸣', '若曦', '天宇', '雨桐',
];

/** Topics that fit each key group (重点人群), first the likeliest. */
export const AUDIENCE_TOPICS: Record<string, readonly string[]> = {
  youth: ['astronomy', 'experiments', 'ai_frontier', 'environment'],
  farmers: ['agriculture', 'food_safety', 'anti_fraud', 'health'],
  workers: ['fire_safety', 'emergency', 'psychology', 'health'],
  elderly: ['anti_fraud', 'digital_skills', 'health', 'medicine_use'],
  officials: ['ai_frontier', 'emergency', 'environment'],
  new_economy_workers: ['psychology', 'emergency', 'health', 'anti_fraud'],
  general: ['environment', 'food_safety', 'health', 'fire_safety'],
};

export const TOPIC_FORMATS: Record<string, readonly string[]> = {
  health: ['lecture', 'consultation'],
  medicine_use: ['lecture', 'consultation'],
  digital_skills: ['workshop', 'lecture'],
  anti_fraud: ['lecture', 'exhibition'],
  emergency: ['workshop', 'lecture'],
  fire_safety: ['workshop', 'exhibition'],
  food_safety: ['lecture', 'exhibition'],
  environment: ['workshop', 'exhibition'],
  agriculture: ['lecture', 'visit'],
  ai_frontier: ['lecture', 'exhibition'],
  astronomy: ['science_show', 'visit'],
  experiments: ['science_show', 'workshop'],
  psychology: ['lecture', 'consultation'],
};

export const TOPIC_TITLES: Record<string, readonly string[]> = {
  health: ['慢性病防治健康讲座', '冬季常见病预防知识讲座', '健康生活方式科普'],
  medicine_use: ['合理用药与药品安全讲座', '家庭小药箱整理咨询'],
  digital_skills: ['老年人智能手机使用课堂', '手把手教您用健康码和线上挂号'],
  anti_fraud: ['防范电信网络诈骗讲座', '识破养老诈骗套路宣传'],
  emergency: ['应急避险与自救互救培训', '地震逃生演练与科普'],
  fire_safety: ['消防安全知识与灭火器实操', '电动自行车消防安全宣传'],
  food_safety: ['食品安全与营养科普', '识别过期和问题食品'],
  environment: ['垃圾分类实践课', '低碳生活与生态环保科普'],
  agriculture: ['设施蔬菜种植技术培训', '果树病虫害绿色防控讲座'],
  ai_frontier: ['人工智能与生活科普讲座', '走近大模型：AI前沿科技'],
  astronomy: ['星空观测夜', '天文知识科学秀'],
  experiments: ['趣味科学实验课', '动手做科学：小小实验室'],
  psychology: ['心理健康与压力调适讲座', '情绪管理心理咨询'],
};

export const AUDIENCE_NAMES: Record<string, string> = {
  youth: '青少年',
  farmers: '农民朋友',
  workers: '产业工人',
  elderly: '老年人',
  officials: '机关干部',
  new_economy_workers: '快递外卖骑手',
  general: '社区居民',
};

/** Realistic weekly windows, Beijing time: weekends, weekday afternoons, weekday evenings, or every day (retirees). */
export const AVAILABILITY_PATTERNS: Record<'weekend' | 'afternoons' | 'evenings' | 'daily', WeeklyWindow[]> = {
  weekend: [6, 7].map((weekday) => ({ weekday, start: '08:30', end: '17:30' })),
  afternoons: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: '13:30', end: '17:30' })),
  evenings: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: '18:30', end: '21:30' })),
  daily: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '08:00', end: '21:30' })),
};

/** A v4-shaped UUID derived from a key: the planning id of a row, the same on every run (never stored: the services choose the ids). */
export function demoId(key: string): string {
  const hex = createHash('sha256').update(`kepu-demo:${key}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** mulberry32: a small seeded generator, so the demo is the same on every machine. */
export class DemoRandom {
  private state: number;

  constructor(seed: string) {
    this.state = parseInt(createHash('sha256').update(seed).digest('hex').slice(0, 8), 16);
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** `count` distinct items, in the list's order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, items.length)) chosen.add(Math.floor(this.next() * items.length));
    return [...chosen].sort((a, b) => a - b).map((i) => items[i] as T);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  personName(): string {
    return this.pick(SURNAMES) + this.pick(GIVEN_NAMES);
  }

  phone(): string {
    return `1${this.pick(['35', '36', '37', '38', '39', '58', '59', '86', '88'])}${String(this.int(0, 99999999)).padStart(8, '0')}`;
  }
}
