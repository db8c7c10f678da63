// Words of column and table names and what they mean (zh/en): the built-in glossary of common, domain-
// neutral words, and the task's optional business glossary (term → meaning), which takes precedence and
// is also given to the LLM.

export interface GlossaryEntry {
  zh: string;
  en: string;
}

/** Common column words. Keys are lower-case name words (snake_case / camelCase split). */
export const BUILTIN_GLOSSARY: Record<string, GlossaryEntry> = {
  id: { zh: 'ID', en: 'ID' },
  uuid: { zh: 'UUID', en: 'UUID' },
  guid: { zh: 'GUID', en: 'GUID' },
  key: { zh: '键', en: 'key' },
  name: { zh: '名称', en: 'name' },
  title: { zh: '标题', en: 'title' },
  code: { zh: '编码', en: 'code' },
  no: { zh: '编号', en: 'number' },
  num: { zh: '编号', en: 'number' },
  number: { zh: '编号', en: 'number' },
  sn: { zh: '序列号', en: 'serial number' },
  seq: { zh: '序号', en: 'sequence' },
  type: { zh: '类型', en: 'type' },
  kind: { zh: '种类', en: 'kind' },
  category: { zh: '类别', en: 'category' },
  class: { zh: '分类', en: 'class' },
  status: { zh: '状态', en: 'status' },
  state: { zh: '状态', en: 'state' },
  flag: { zh: '标志', en: 'flag' },
  level: { zh: '级别', en: 'level' },
  grade: { zh: '等级', en: 'grade' },
  date: { zh: '日期', en: 'date' },
  day: { zh: '日', en: 'day' },
  month: { zh: '月份', en: 'month' },
  year: { zh: '年份', en: 'year' },
  week: { zh: '周', en: 'week' },
  hour: { zh: '小时', en: 'hour' },
  time: { zh: '时间', en: 'time' },
  ts: { zh: '时间', en: 'time' },
  timestamp: { zh: '时间戳', en: 'timestamp' },
  at: { zh: '时间', en: 'time' },
  dt: { zh: '日期', en: 'date' },
  start: { zh: '开始', en: 'start' },
  begin: { zh: '开始', en: 'begin' },
  end: { zh: '结束', en: 'end' },
  finish: { zh: '结束', en: 'finish' },
  amount: { zh: '金额', en: 'amount' },
  amt: { zh: '金额', en: 'amount' },
  money: { zh: '金额', en: 'money' },
  price: { zh: '价格', en: 'price' },
  cost: { zh: '成本', en: 'cost' },
  fee: { zh: '费用', en: 'fee' },
  pay: { zh: '支付', en: 'payment' },
  payment: { zh: '支付', en: 'payment' },
  income: { zh: '收入', en: 'income' },
  revenue: { zh: '收入', en: 'revenue' },
  balance: { zh: '余额', en: 'balance' },
  total: { zh: '合计', en: 'total' },
  sum: { zh: '合计', en: 'sum' },
  avg: { zh: '平均', en: 'average' },
  max: { zh: '最大', en: 'maximum' },
  min: { zh: '最小', en: 'minimum' },
  count: { zh: '数量', en: 'count' },
  cnt: { zh: '数量', en: 'count' },
  qty: { zh: '数量', en: 'quantity' },
  quantity: { zh: '数量', en: 'quantity' },
  rate: { zh: '比率', en: 'rate' },
  ratio: { zh: '比例', en: 'ratio' },
  percent: { zh: '百分比', en: 'percent' },
  score: { zh: '分数', en: 'score' },
  weight: { zh: '重量', en: 'weight' },
  size: { zh: '大小', en: 'size' },
  length: { zh: '长度', en: 'length' },
  create: { zh: '创建', en: 'create' },
  created: { zh: '创建', en: 'created' },
  update: { zh: '更新', en: 'update' },
  updated: { zh: '更新', en: 'updated' },
  modify: { zh: '修改', en: 'modify' },
  modified: { zh: '修改', en: 'modified' },
  delete: { zh: '删除', en: 'delete' },
  deleted: { zh: '删除', en: 'deleted' },
  insert: { zh: '插入', en: 'insert' },
  by: { zh: '人', en: 'by' },
  user: { zh: '用户', en: 'user' },
  customer: { zh: '客户', en: 'customer' },
  member: { zh: '会员', en: 'member' },
  owner: { zh: '所有者', en: 'owner' },
  operator: { zh: '操作员', en: 'operator' },
  oper: { zh: '营业', en: 'operation' },
  employee: { zh: '员工', en: 'employee' },
  staff: { zh: '员工', en: 'staff' },
  manager: { zh: '经理', en: 'manager' },
  department: { zh: '部门', en: 'department' },
  dept: { zh: '部门', en: 'department' },
  company: { zh: '公司', en: 'company' },
  org: { zh: '组织', en: 'organization' },
  group: { zh: '分组', en: 'group' },
  team: { zh: '团队', en: 'team' },
  role: { zh: '角色', en: 'role' },
  account: { zh: '账户', en: 'account' },
  order: { zh: '订单', en: 'order' },
  item: { zh: '明细项', en: 'item' },
  line: { zh: '行', en: 'line' },
  detail: { zh: '明细', en: 'detail' },
  product: { zh: '产品', en: 'product' },
  goods: { zh: '商品', en: 'goods' },
  sku: { zh: 'SKU', en: 'SKU' },
  shop: { zh: '店铺', en: 'shop' },
  store: { zh: '门店', en: 'store' },
  branch: { zh: '分支', en: 'branch' },
  service: { zh: '服务', en: 'service' },
  area: { zh: '区域', en: 'area' },
  region: { zh: '地区', en: 'region' },
  province: { zh: '省份', en: 'province' },
  city: { zh: '城市', en: 'city' },
  address: { zh: '地址', en: 'address' },
  position: { zh: '位置', en: 'position' },
  location: { zh: '位置', en: 'location' },
  lng: { zh: '经度', en: 'longitude' },
  lon: { zh: '经度', en: 'longitude' },
  longitude: { zh: '经度', en: 'longitude' },
  lat: { zh: '纬度', en: 'latitude' },
  latitude: { zh: '纬度', en: 'latitude' },
  route: { zh: '路线', en: 'route' },
  section: { zh: '路段', en: 'section' },
  phone: { zh: '电话', en: 'phone' },
  mobile: { zh: '手机号', en: 'mobile phone' },
  tel: { zh: '电话', en: 'telephone' },
  email: { zh: '邮箱', en: 'email' },
  mail: { zh: '邮件', en: 'mail' },
  url: { zh: '链接', en: 'URL' },
  link: { zh: '关联', en: 'link' },
  path: { zh: '路径', en: 'path' },
  file: { zh: '文件', en: 'file' },
  image: { zh: '图片', en: 'image' },
  desc: { zh: '描述', en: 'description' },
  description: { zh: '描述', en: 'description' },
  remark: { zh: '备注', en: 'remark' },
  remarks: { zh: '备注', en: 'remarks' },
  note: { zh: '备注', en: 'note' },
  memo: { zh: '备注', en: 'memo' },
  comment: { zh: '备注', en: 'comment' },
  content: { zh: '内容', en: 'content' },
  text: { zh: '文本', en: 'text' },
  message: { zh: '消息', en: 'message' },
  version: { zh: '版本号', en: 'version' },
  source: { zh: '来源', en: 'source' },
  target: { zh: '目标', en: 'target' },
  parent: { zh: '上级', en: 'parent' },
  child: { zh: '下级', en: 'child' },
  sort: { zh: '排序', en: 'sort order' },
  enabled: { zh: '启用', en: 'enabled' },
  enable: { zh: '启用', en: 'enable' },
  active: { zh: '有效', en: 'active' },
  valid: { zh: '有效', en: 'valid' },
  car: { zh: '车辆', en: 'car' },
  vehicle: { zh: '车辆', en: 'vehicle' },
  event: { zh: '事件', en: 'event' },
  log: { zh: '日志', en: 'log' },
  tag: { zh: '标签', en: 'tag' },
  tags: { zh: '标签', en: 'tags' },
  profile: { zh: '档案', en: 'profile' },
  full: { zh: '完整', en: 'full' },
  first: { zh: '首', en: 'first' },
  last: { zh: '最后', en: 'last' },
  head: { zh: '负责人', en: 'head' },
  history: { zh: '历史', en: 'history' },
  mapper: { zh: '映射', en: 'mapping' },
  mapping: { zh: '映射', en: 'mapping' },
  map: { zh: '映射', en: 'map' },
  config: { zh: '配置', en: 'configuration' },
  setting: { zh: '设置', en: 'setting' },
  data: { zh: '数据', en: 'data' },
  info: { zh: '信息', en: 'information' },
  stat: { zh: '统计', en: 'statistics' },
  stats: { zh: '统计', en: 'statistics' },
  daily: { zh: '每日', en: 'daily' },
  business: { zh: '业务', en: 'business' },
  sale: { zh: '销售', en: 'sale' },
  sales: { zh: '销售', en: 'sales' },
  system: { zh: '系统', en: 'system' },
  is: { zh: '是否', en: 'is' },
  has: { zh: '是否有', en: 'has' },
};

export type Glossary = Map<string, string>;

/**
 * A business glossary from the task: an object `{term: meaning}`, an array of `{term, meaning}` /
 * `"term: meaning"` strings, or text with one `term: meaning` (or `term = meaning`, `term\tmeaning`,
 * `term -> meaning`) per line. Terms match case-insensitively.
 */
export function parseGlossary(input: unknown): Glossary {
  const glossary: Glossary = new Map();
  const add = (term: unknown, meaning: unknown) => {
    if (typeof term !== 'string' || typeof meaning !== 'string') return;
    const t = term.trim();
    const m = meaning.trim();
    if (t && m) glossary.set(t.toLowerCase(), m);
  };
  const addLine = (line: string) => {
    const text = line.trim();
    if (!text || text.startsWith('#')) return;
    const match = /^(.+?)\s*(?:->|=>|[:：=\t])\s*(.+)$/.exec(text);
    if (match) add(match[1], match[2]);
  };
  if (typeof input === 'string') input.split(/\r?\n/).forEach(addLine);
  else if (Array.isArray(input)) {
    for (const entry of input) {
      if (typeof entry === 'string') addLine(entry);
      else if (entry && typeof entry === 'object') add((entry as any).term ?? (entry as any).name, (entry as any).meaning ?? (entry as any).description);
    }
  } else if (input && typeof input === 'object') {
    for (const [term, meaning] of Object.entries(input)) add(term, meaning);
  }
  return glossary;
}

export function mergeGlossaries(...glossaries: Glossary[]): Glossary {
  const out: Glossary = new Map();
  for (const g of glossaries) for (const [k, v] of g) out.set(k, v);
  return out;
}
