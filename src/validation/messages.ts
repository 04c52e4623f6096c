import type { LanguageMessages, ValidationOptions } from 'joi';

/**
 * Chinese wording for joi's checks. `{{#label}}` is the field's path, wrapped in 「」.
 * Every field a route accepts should also get a Chinese `.label()` where the key alone
 * would not tell an elderly user or a mini-program developer what is wrong.
 */
export const zhMessages: LanguageMessages = {
  'any.required': '缺少必填项{{#label}}',
  'any.unknown': '不支持的字段{{#label}}，请删除后重试',
  'any.invalid': '{{#label}}的值无效',
  // A check against another field (end > start) when that field is missing or invalid: joi's
  // own text names the reference as 「ref:start」 in English.
  'any.ref': '{{#label}}要与另一项比较，但那一项没有填写或格式不正确，请先更正它',
  'any.only': '{{#label}}只能是以下之一：{{#valids}}',
  'object.unknown': '不支持的字段{{#label}}，请删除后重试',
  'object.base': '{{#label}}应为对象（JSON object）',
  'object.missing': '{{#label}}至少需要填写其中一项：{{#peers}}',
  'object.and': '{{#label}}中这些字段需一起填写：{{#presentWithLabels}}，缺少：{{#missingWithLabels}}',
  'object.xor': '{{#label}}中这些字段只能填写一项：{{#peersWithLabels}}',
  'object.with': '填写{{#mainWithLabel}}时也需要填写{{#peerWithLabel}}',
  'object.without': '填写{{#mainWithLabel}}时不能同时填写{{#peerWithLabel}}',
  'string.base': '{{#label}}应为文字',
  'string.empty': '{{#label}}不能为空',
  'string.min': '{{#label}}至少 {{#limit}} 个字符',
  'string.max': '{{#label}}最多 {{#limit}} 个字符',
  'string.length': '{{#label}}应为 {{#limit}} 个字符',
  'string.pattern.base': '{{#label}}格式不正确',
  'string.pattern.name': '{{#label}}格式不正确，应为{{#name}}',
  'string.alphanum': '{{#label}}只能包含字母和数字',
  'string.hex': '{{#label}}只能包含十六进制字符',
  'string.isoDate': '{{#label}}应为日期时间，例如 2026-11-23T10:00:00+08:00',
  'string.uri': '{{#label}}应为网址',
  'string.email': '{{#label}}应为邮箱地址',
  'string.guid': '{{#label}}格式不正确',
  'number.base': '{{#label}}应为数字',
  'number.integer': '{{#label}}应为整数',
  'number.min': '{{#label}}不能小于 {{#limit}}',
  'number.max': '{{#label}}不能大于 {{#limit}}',
  'number.greater': '{{#label}}应大于 {{#limit}}',
  'number.less': '{{#label}}应小于 {{#limit}}',
  'number.positive': '{{#label}}应为正数',
  'number.unsafe': '{{#label}}数值过大',
  'boolean.base': '{{#label}}应为 true 或 false',
  'date.base': '{{#label}}应为日期时间，例如 2026-11-23T10:00:00+08:00',
  'date.format': '{{#label}}应为日期时间，例如 2026-11-23T10:00:00+08:00',
  'date.min': '{{#label}}不能早于 {{#limit}}',
  'date.max': '{{#label}}不能晚于 {{#limit}}',
  'array.base': '{{#label}}应为列表',
  'array.min': '{{#label}}至少需要 {{#limit}} 项',
  'array.max': '{{#label}}最多 {{#limit}} 项',
  'array.length': '{{#label}}应为 {{#limit}} 项',
  'array.unique': '{{#label}}中有重复项',
  'array.includesRequiredUnknowns': '{{#label}}缺少必需的项',
  'alternatives.match': '{{#label}}的格式不符合要求',
  'alternatives.types': '{{#label}}的类型不符合要求',
};

/** The options every request validation uses: all problems at once, unknown keys rejected. */
export const requestValidationOptions: ValidationOptions = {
  abortEarly: false,
  allowUnknown: false,
  stripUnknown: false,
  convert: true,
  messages: zhMessages,
  errors: { wrap: { label: '「」' } },
};
