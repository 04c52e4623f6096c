import { expect } from 'chai';
import { understand } from '../bots/nlu/index.js';
import { choiceByWords } from '../bots/nlu/choices.js';
import { useCleanStorage } from './support/storage.js';

const NOW = new Date('2026-11-23T10:00:00+08:00');
const intent = (text: string) => understand(text, NOW).intent;

describe('nlu: urgent, withdraw, claim by kind, words for options', () => {
  useCleanStorage();

  describe('urgent wins over every other reading', () => {
    for (const text of [
      '我摔了一跤起不来了', '我摔到了', '救命', '就命啊', '救救我', '我心口疼', '胸口痛得厉害', '头好晕 想吐', '我在卫生间滑倒了 站不起来',
      '老伴晕倒了', '喘不上气', '我被困在电梯里了', '锁在屋里出不去了', '厨房着火了', '闻到煤气味', '我摔了一跤起不来了，明天的饭不要了',
      '救命！！', '救 命', '快来人啊', 'SOS', '快打120', '有陌生人在敲门不走',
    ]) {
      it(`「${text}」 → urgent`, () => expect(intent(text)).to.equal('urgent'));
    }
    for (const [text, expected] of [
      ['孩子很健康 没发烧', 'childcare.book'], ['后天中午送一份饭到我家', 'meal.book'], ['借活动室开会，120人', 'room.book'],
      ['他没摔', 'unknown'], ['牙口不好，要软一点的饭', 'meal.book'],
    ] as const) {
      it(`「${text}」 is not urgent`, () => expect(intent(text)).to.equal(expected));
    }
  });

  describe('volunteer withdraw and claim by kind', () => {
    it('去不了 / 退出 / 取消报名 withdraw', () => {
      for (const text of ['文艺汇演我去不了', '周六的活动我去不了了', '退出', '取消报名']) expect(intent(text), text).to.equal('volunteer.unclaim');
    });
    it('「明天送餐算我一个」 claims a delivery task, with its day', () => {
      expect(understand('明天送餐算我一个', NOW)).to.deep.equal({ intent: 'volunteer.claim', dates: ['2026-11-24'] });
      expect(understand('后天送餐的活算我一个', NOW)).to.deep.equal({ intent: 'volunteer.claim', dates: ['2026-11-25'] });
    });
  });

  describe('choiceByWords', () => {
    it('reads what the options say', () => {
      expect(choiceByWords('通过', ['通过', '拒绝'])).to.equal(1);
      expect(choiceByWords('同意', ['通过', '拒绝'])).to.equal(1);
      expect(choiceByWords('驳回', ['通过', '拒绝'])).to.equal(2);
      expect(choiceByWords('孩子很健康 没发烧', ['没有，身体健康', '有不适'])).to.equal(1);
      expect(choiceByWords('有点发烧', ['没有，身体健康', '有不适'])).to.equal(2);
      expect(choiceByWords('上午的那个', ['A（09:00–11:30）', 'B（14:00–17:00）'])).to.equal(1);
      expect(choiceByWords('舞蹈室吧', ['书画室', '舞蹈室'])).to.equal(2);
    });
    it('answers nothing when no option or several fit', () => {
      expect(choiceByWords('8个人', ['书画室', '舞蹈室'])).to.equal(undefined);
      expect(choiceByWords('上午', ['A 09:00', 'B 10:00'])).to.equal(undefined);
    });
  });
});
