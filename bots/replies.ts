/**
 * Everything the bot says that is not an AppError's message: short, plain Chinese for
 * residents who may be 80 and reading on a small phone. Never a code, and no phone number
 * but the emergency numbers and the community's duty phone (紧急求助, 人工).
 */

/** What to do first, by kind of distress. */
const URGENT_FIRST: Record<string, string> = {
  fire: '着火或闻到煤气味：马上离开，关掉煤气阀，别坐电梯，出门后拨打 119。',
  trapped: '被困：别慌，先拨打 119（或 110），困在电梯里按电梯里的警铃，别扒门。',
  medical: '有生命危险（胸口疼、喘不上气、摔了起不来、昏迷、大出血）请立刻拨打 120。摔倒了先别急着起来，能动就慢慢挪到安全的地方。',
  danger: '有危险请立刻拨打 110，需要急救拨打 120，着火拨打 119。',
};

const URGENT_TOLD: Record<string, string> = {
  told: '我已经通知了您的家人、网格员和社区值班人员，他们会马上联系您。',
  nobody: '我已经记下并通知社区，会有人尽快联系您。',
  unbound: '您还没有绑定，我没法通知您的家人，请一定先打上面的电话。',
  failed: '系统暂时没能通知到您的家人，请一定先打上面的电话。',
};

export const replies = {
  /** An unbound contact sent something other than a binding code. */
  howToBind: '您好！请先绑定：在小程序“我的”里获取 6 位绑定码，或请社区工作人员帮您获取，然后把绑定码发给我。',

  bindingSucceeded: (name?: string | null) =>
    name ? `绑定成功！您好，${name}。以后直接发消息给我就能预约服务。` : '绑定成功！以后直接发消息给我就能预约服务。',

  /** What the bot can do: the answer to 你好, 帮助 and anything it did not understand. */
  menu: '您好！我可以帮您（回复数字，或直接打字说）：\n1. 订饭：如“明天中午送一份饭到家”\n2. 借活动室：如“明天下午2点到4点借活动室，10个人”\n3. 托管孩子：如“下周二上午9点托管孩子”\n4. 志愿服务：发“志愿活动”\n5. 看预约、取消：发“我的预约”\n6. 问饭价和补贴：发“明天的饭多少钱”\n7. 找工作人员：发“人工”\n有紧急情况（摔倒、不舒服、着火）直接发“救命”。',

  /** 取消 / 算了 in the middle of a conversation. */
  cancelled: '好的，已取消，没有办理任何预约。需要时随时找我。',

  /** An answer the current question could not use. */
  notUnderstood: '没太明白您的意思。',

  /** At the summary, a message that is neither 确认 nor a change. */
  confirmHint: '请回复“确认”办理，“改”修改，或“取消”放弃。',

  /** Voice, pictures, stickers, files…: the bot reads text only. */
  textOnly: '请用文字或数字回复我，谢谢！',

  /**
   * Sent once when a contact floods the bot; other messages wait until the window passes,
   * but an urgent one is always answered (the reply says so).
   */
  slowDown: (seconds: number) => `您发消息太快了，请 ${seconds} 秒后再发，我会继续为您服务。如有紧急情况（摔倒、不舒服、着火），直接发“救命”，我会马上处理。`,

  /** The answer to 紧急求助: what to do now, the numbers, and who has been told. */
  urgent: (kind: string, dutyPhone: string, told: keyof typeof URGENT_TOLD) =>
    `【紧急求助】${URGENT_FIRST[kind] ?? URGENT_FIRST.danger}\n急救 120 · 报警 110 · 火警 119`
    + `${dutyPhone ? `\n社区值班电话：${dutyPhone}` : ''}\n${URGENT_TOLD[told]}\n有人回复后我会告诉您。您正在办的事我都记着，处理完可以接着说。`,

  /** A recipient took the alert. */
  urgentAcknowledged: (name: string, phone?: string) =>
    `好的，已记录由您处理${name}的紧急求助，其他人会收到通知。${phone ? `${name}的电话：${phone}。` : ''}请尽快联系或上门，需要时拨打 120 / 110 / 119。`,

  /** Anything that went wrong on our side. */
  systemError: '系统出了点问题，请稍后再试。',
} as const;
