/**
 * Everything the bot says that is not an AppError's message: short, plain Chinese for
 * residents who may be 80 and reading on a small phone. Never a phone number, never a code.
 */

export const replies = {
  /** An unbound contact sent something other than a binding code. */
  howToBind: '您好！请先绑定：在小程序“我的”里获取 6 位绑定码，或请社区工作人员帮您获取，然后把绑定码发给我。',

  bindingSucceeded: (name?: string | null) =>
    name ? `绑定成功！您好，${name}。以后直接发消息给我就能预约服务。` : '绑定成功！以后直接发消息给我就能预约服务。',

  /** What the bot can do: the answer to 你好, 帮助 and anything it did not understand. */
  menu: '您好！我可以帮您：\n· 订饭：如“明天中午送一份饭到家”\n· 借活动室：如“明天下午2点到4点借活动室，10个人”\n· 托管孩子：如“下周二上午9点托管孩子”\n· 志愿服务：发“志愿活动”\n· 看预约、取消：发“我的预约”\n· 找工作人员：发“人工”\n直接打字说就行，也可以回复数字选择。',

  /** 取消 / 算了 in the middle of a conversation. */
  cancelled: '好的，已取消，没有办理任何预约。需要时随时找我。',

  /** An answer the current question could not use. */
  notUnderstood: '没太明白您的意思。',

  /** At the summary, a message that is neither 确认 nor a change. */
  confirmHint: '请回复“确认”办理，“改”修改，或“取消”放弃。',

  /** Voice, pictures, stickers, files…: the bot reads text only. */
  textOnly: '请用文字或数字回复我，谢谢！',

  /** Sent once when a contact floods the bot; then silence until the window passes. */
  slowDown: (seconds: number) => `您发消息太快了，请 ${seconds} 秒后再发，我会继续为您服务。`,

  /** Anything that went wrong on our side. */
  systemError: '系统出了点问题，请稍后再试。',
} as const;
