"""Table-driven pairs for the story decision, features round trip and the index's window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from bot.stories import StoryFeatures, StoryIndex, StoryInput, explain, features, group, same_story
from bot.stories.features import TITLE_CHARS
from bot.stories.figures import dates, numbers, total
from bot.stories.normalize import clean_lead, clean_title
from bot.stories.outcomes import decisions, direction
from bot.stories.places import leading_place
from bot.stories.subjects import quoted, subject
from bot.stories.tokens import language

SAME = [
    (  # a casualty count and its breakdown
        "인천 공사장서 타워크레인 붕괴…작업자 2명 사상",
        "20일 인천 연수구 공사장에서 타워크레인이 쓰러져 작업자 2명이 숨지거나 다쳤다.",
        "인천 타워크레인 넘어져 1명 숨지고 1명 다쳐",
        "20일 인천 연수구의 한 공사현장에서 타워크레인이 붕괴해 근로자 1명이 숨지고 1명이 다쳤다.",
    ),
    (  # the news with its source named before it, in a quote (no second speaker's statement)
        "[속보] 합참 “북한, 동해상으로 탄도미사일 발사”",
        "",
        "북한, 동해상으로 탄도미사일 발사",
        "",
    ),
    (  # the source named first, quoting the act with more detail than the other headline
        "北, 동해상으로 탄도미사일 발사…올해 세 번째",
        "",
        "[속보] 합참 “북한, 동해상으로 미상 탄도미사일 발사”",
        "",
    ),
    (  # a company's name as economic headlines abbreviate it (`삼성電`) and in full
        "삼성電, 10조 규모 자사주 매입 결정",
        "",
        "삼성전자, 자사주 10조원어치 사들인다",
        "",
    ),
    (  # one template, its subject in two spellings: no two subjects
        "[속보] 한은 “기준금리 0.25%p 인상”",
        "",
        "한국은행, 기준금리 0.25%p 인상",
        "",
    ),
    (  # `정부` stands for the ministry the other headline names
        "[속보] 기재부 “내년 성장률 2.2% 전망”",
        "",
        "정부, 내년 성장률 2.2% 전망",
        "",
    ),
    (  # Russian, read by the Russian stems of its words
        "Пожар в гостинице на северо-востоке Москвы",
        "В гостинице на северо-востоке Москвы произошел пожар, эвакуированы 70 человек.",
        "Из горящей гостиницы в Москве эвакуировали 70 человек",
        "Из гостиницы на северо-востоке Москвы эвакуировали 70 человек из-за пожара.",
    ),
    (  # one deal, its amount written two ways
        "Acme buys Widgets for $2bn",
        "Acme agreed to buy Widgets Inc in a deal worth $2 billion, the companies said.",
        "Acme to acquire Widgets in $2 billion deal",
        "Acme agreed to buy Widgets Inc for $2 billion, the companies said on Monday.",
    ),
    (
        "LG전자, 2분기 영업이익 7922억 원…전년比 12% 줄어",
        "올 2분기(4~6월) 실적을 발표한 LG전자의 TV 사업이 분기 기준으로 7년 만에 적자로 집계됐다.",
        "LG전자, 2분기 영업이익 7922억원으로 전년보다 12% 감소",
        "엘지(LG)전자는 올해 2분기에 매출 19조4640억원, 영업이익 7922억원을 올렸다.",
    ),
    (
        "[속보]바이든, 코로나19 재확진",
        "[서울=뉴시스] 신정원 기자 = 바이든, 코로나19 재확진 ◎공감언론 뉴시스",
        "바이든, 코로나19 재확진…팍스로비드 재발 사례인 듯(종합)",
        "[서울=뉴시스] 신정원 기자 = 조 바이든 미국 대통령이 코로나19에 재확진됐다.",
    ),
    (
        "‘강남 유흥업소 사망사건’ 마약 유통책 4명 구속",
        "‘강남 유흥주점 사망사건’과 관련된 마약 유통책 4명이 구속됐다. 서울중앙지법은 30일",
        "'강남 유흥주점 사망사건' 마약 유통책 4명 구속",
        "강남 유흥주점 '마약 술자리 사망사건'과 관련해 마약 유통책 4명이 30일 구속됐다.",
    ),
    (  # one agency led by its full and its short name
        "[속보] 한국은행, 기준금리 0.25%p 인상…연 3.5%",
        "한국은행 금융통화위원회는 13일 기준금리를 연 3.25%에서 3.50%로 0.25%포인트 인상했다.",
        "한은, 기준금리 3.5%로 올려…7차례 연속 인상",
        "한국은행이 13일 기준금리를 0.25%포인트 올려 연 3.50%로 결정했다.",
    ),
    (  # the government beside the ministry that spoke for it
        "국토부, 수도권 주택 공급 대책 발표…3기 신도시 조기 착공",
        "국토교통부는 2일 수도권 주택 공급 확대 방안을 발표했다. 3기 신도시 착공 시기를 앞당긴다.",
        "정부 “수도권에 5만가구 추가 공급”…부동산 대책 발표",
        "정부가 수도권 집값 안정을 위해 5만가구를 추가 공급하는 내용의 주택 공급 대책을 내놨다.",
    ),
    (  # English, headlines led by other words: neither is a name the other item lacks
        "Bank of England cuts interest rates to 4%",
        "The Bank of England lowered its key interest rate by a quarter point to 4% on Thursday.",
        "BoE trims rates in narrow 5-4 vote",
        "Britain's central bank cut borrowing costs to 4% after a second round of voting.",
    ),
    (
        "Magnitude 7.1 earthquake strikes off Japan",
        "A magnitude 7.1 earthquake struck off the coast of southern Japan on Thursday, the Japan "
        "Meteorological Agency said.",
        "Strong quake hits southern Japan, tsunami advisory issued",
        "A strong 7.1-magnitude earthquake hit southern Japan on Thursday, prompting a tsunami "
        "advisory, the Japan Meteorological Agency said.",
    ),
    (  # one results release, headlined by its profit and by its revenue
        "삼성전자, 3분기 영업이익 9.1조원…전년比 274% 증가",
        "삼성전자는 3분기 연결 기준 매출 79조원, 영업이익 9조1000억원을 기록했다고 31일 공시했다.",
        "삼성전자 3분기 매출 79조원 역대 최대",
        "삼성전자가 3분기 매출 79조원으로 분기 기준 역대 최대를 기록했다. 영업이익은 "
        "9조1000억원이다.",
    ),
    (  # English: a short name and the full one
        "Fed cuts rates by a quarter point",
        "The Fed lowered its benchmark rate by 25 basis points on Wednesday, citing a cooling "
        "labor market.",
        "Federal Reserve lowers interest rates for first time this year",
        "The Federal Reserve cut interest rates on Wednesday for the first time this year as the "
        "job market slowed.",
    ),
    (  # English: a name, and the same name with its title word
        "Hurricane Milton makes landfall in Florida",
        "Hurricane Milton made landfall near Siesta Key, Florida, on Wednesday night as a "
        "Category 3 storm.",
        "Milton slams into Florida's Gulf Coast",
        "Milton came ashore near Siesta Key on Wednesday evening, bringing storm surge and "
        "tornadoes to Florida.",
    ),
    (  # one heat wave, two places' temperatures
        "서울 36.3도 올해 가장 더웠다…폭염 절정",
        "2일 서울의 낮 최고기온이 36.3도까지 오르며 올해 가장 더운 날을 기록했다. 폭염경보가 "
        "내려진 수도권은 열대야도 이어지고 있다.",
        "동두천 37.1도…수도권 폭염 절정, 올해 가장 더운 날",
        "2일 경기 동두천의 낮 최고기온이 37.1도를 기록하는 등 수도권에 폭염이 절정에 달했다. "
        "올해 가장 더운 날이다.",
    ),
    (  # English: a maker and its product lead
        "Microsoft Teams down for thousands of users",
        "Microsoft Teams stopped working for thousands of users on Wednesday morning, according "
        "to outage trackers.",
        "Microsoft outage hits Teams and Outlook",
        "A Microsoft outage knocked out Teams and Outlook for thousands of users on Wednesday "
        "morning, outage trackers showed.",
    ),
    (  # a province and its county lead: each item names the other's place
        "[속보] 경북 영덕 산불 확산…주민 대피령",
        "경북 영덕군에서 발생한 산불이 강풍을 타고 번지면서 주민 대피령이 내려졌다.",
        "영덕 산불, 강풍 타고 확산…주민 수백명 대피",
        "경북 영덕에서 난 산불이 강풍에 번지며 주민 수백 명이 대피했다.",
    ),
    (  # one subject, two quoted terms, each item naming the other's
        "삼성전자, ‘갤럭시 S26’ 공개…AI 기능 강화",
        "삼성전자가 2일 갤럭시 언팩 행사에서 AI폰 갤럭시 S26을 공개했다. AI 기능을 강화했다.",
        "삼성전자, ‘AI폰’ 시대 연다…갤럭시 S26 공개",
        "삼성전자가 2일 갤럭시 언팩에서 갤럭시 S26을 공개하며 AI폰 시대를 열었다.",
    ),
    (  # one session's close in two words for the same direction
        "코스피, 외국인 매수에 상승 마감…2450선 회복",
        "코스피가 외국인과 기관의 동반 매수에 힘입어 상승 마감했다. 29일 한국거래소에 따르면 "
        "코스피는 전 거래일보다 15.2포인트 오른 2451.5에 장을 마쳤다.",
        "코스피 1% 급등…2450선 회복",
        "29일 코스피는 전 거래일보다 15.2포인트 오른 2451.5에 마감했다. 외국인과 기관이 "
        "동반 매수에 나섰다.",
    ),
    (
        "Nvidia shares fall after results",
        "Nvidia stock fell 4% on Thursday after the chipmaker's quarterly results and guidance.",
        "Nvidia slides as outlook disappoints investors",
        "Shares of Nvidia slid 4% on Thursday after the chipmaker's results and guidance.",
    ),
    (  # one central bank's decision, its name qualified by its country or not
        "[속보] 美연준, 기준금리 0.75%p 인상",
        "",
        "연준, 기준금리 0.75%p 올려…3연속 자이언트스텝",
        "",
    ),
    (  # one amount written two ways (`3조5000억`, `3.5조`) in headlines that share little else
        "[속보] 정부, AI 분야에 3조5000억 정책금융 지원",
        "정부가 인공지능(AI) 분야에 3조5000억원 규모의 정책금융을 지원한다.",
        "AI 정책금융 3.5조 투입…로봇·자율주행 육성",
        "금융당국이 AI 산업 육성을 위해 3조5000억원을 공급하기로 했다. 로봇과 자율주행, 클라우드 "
        "분야가 대상이다.",
    ),
    (  # a company's short name (`LG엔솔`) and its full one lead one subject
        "LG엔솔, 美 애리조나에 배터리 공장…7조 투자",
        "LG에너지솔루션이 미국 애리조나주에 7조2000억원을 투자해 배터리 공장을 짓는다.",
        "LG에너지솔루션, 애리조나 배터리 공장에 7.2조 투입",
        "LG에너지솔루션은 24일 이사회를 열고 미국 애리조나 단독 공장 건설에 7조2000억원을 "
        "투자하기로 의결했다.",
    ),
    (  # a name cut to some of its syllables (`삼바`) names the company its lead spells out
        "삼바, 1조7000억 규모 위탁생산 계약",
        "삼성바이오로직스가 글로벌 제약사와 1조7000억원 규모 위탁생산 계약을 맺었다.",
        "삼성바이오로직스, 창사 이래 최대 1.7조 수주",
        "삼성바이오로직스는 미국 제약사와 1조7028억원 규모의 위탁생산 계약을 체결했다고 공시했다.",
    ),
    (  # a round threshold crossed (`1000억 돌파`) is no other figure than the exact one
        "카뱅, 2분기 순이익 1000억 돌파",
        "카카오뱅크의 2분기 당기순이익이 1000억원을 넘어섰다.",
        "카카오뱅크 2분기 순익 1022억…사상 최대",
        "카카오뱅크는 2분기 당기순이익이 1022억원으로 집계됐다고 밝혔다.",
    ),
    (  # a fire's casualty count and its update: the later count rose from the first
        "[속보] 이천 물류센터 화재…3명 사망",
        "경기 이천시의 한 물류센터에서 불이 나 3명이 숨졌다.",
        "이천 물류창고 화재 사망자 5명으로 늘어",
        "경기 이천시 물류창고 화재로 인한 사망자가 5명으로 늘었다고 소방당국이 밝혔다.",
    ),
    (  # one lawsuit of $25 million, converted to won at two outlets' rates
        "“세서미 테마파크서 인종차별”… 가족 326억원 소송 제기",
        "미국 세서미 플레이스 테마파크에서 인종차별을 당했다며 흑인 가족이 소송을 냈다.",
        "“세서미가 인종차별”…흑인아이 아빠 324억원 소송",
        "흑인 아이의 아빠가 세서미 플레이스를 상대로 2500만 달러 소송을 제기했다.",
    ),
    (  # one model under two verbs: its name in both
        "OpenAI releases GPT-5",
        "OpenAI on Thursday released GPT-5, its newest model.",
        "OpenAI unveils GPT-5, its most capable model yet",
        "OpenAI has launched GPT-5, the company said on Thursday.",
    ),
    (  # a company and its group (`현대차`, `현대차그룹`) lead one subject
        "현대차, 美 조지아에 전기차 공장 착공",
        "현대자동차그룹이 미국 조지아주에서 전기차 전용 공장 기공식을 열었다.",
        "현대차그룹, 조지아 전기차 전용공장 기공식…6조3000억 투자",
        "현대차그룹은 25일 미국 조지아주 브라이언카운티에서 전기차 전용공장 기공식을 개최했다.",
    ),
    (  # two hours of one landfall: `3 pm` and `5 pm` are no figures that differ
        "Storm to make landfall at 3 pm",
        "The storm is expected to hit the coast on Tuesday.",
        "Storm makes landfall at 5 pm, earlier than forecast",
        "The storm hit the coast on Tuesday.",
    ),
    (  # `U.S.` and `US`, one country
        "U.S. economy adds 256,000 jobs in December",
        "U.S. employers added 256,000 jobs last month, the Labor Department said on Friday.",
        "US jobs growth surges as employers add 256,000",
        "The US economy added 256,000 jobs in December, beating forecasts.",
    ),
    (  # a term and its acronym (`인공지능`, `AI`), the one amount spelled two ways
        "로봇, 자율주행, 클라우드  AI 분야 3조 5000억 원 지원",
        "정부가 3조 5000억 원을 투자한 AI정책금융 프로그램을 통해 클라우드, 로봇, 자율주행 등 AI "
        "분야를 강화한다.",
        "정부, 인공지능 산업에 3조5천억원 금융지원",
        "정부가 인공지능 산업 경쟁력 강화를 위해 3조5천억원 규모 금융지원에 나선다.",
    ),
    (  # a headline opening with a list (`로봇, 자율주행, …`) is led by no subject of its own
        "로봇, 자율주행, 클라우드  AI 분야 3조 5000억 원 지원",
        "정부가 3조 5000억 원을 투자한 AI정책금융 프로그램을 통해 클라우드, 로봇, 자율주행 등 AI "
        "분야를 강화한다.",
        "금융위, AI에 3.5조 푼다…로봇·자율주행 포함",
        "금융위원회가 인공지능 분야 기업에 3조5000억원을 지원하는 AI 정책금융 프로그램을 내놨다.",
    ),
]


DIFFERENT = [
    (  # one company's two models: a model name is set off as a quoted term is
        "OpenAI releases GPT-5",
        "OpenAI released GPT-5 on Thursday.",
        "OpenAI releases o3-mini reasoning model",
        "OpenAI released o3-mini, a smaller reasoning model, on Friday.",
    ),
    (  # one company's two recalls: English counts are figures too
        "Tesla recalls 2 million cars over Autopilot",
        "Tesla is recalling more than 2 million vehicles to fix its Autopilot system.",
        "Tesla recalls 120,000 Model S and X vehicles",
        "Tesla is recalling about 120,000 Model S and Model X vehicles because doors may open.",
    ),
    (  # two days' counts of one statistic: no casualty count rising to a figure
        "[속보] 신규확진 8만2002명…위중증 242명·사망 35명",
        "",
        "신규확진 8만5320명으로 증가…위중증 234명",
        "",
    ),
    (  # a name's start is another body: the city and its education office
        "서울시, 폭염 대비 무더위쉼터 확대",
        "",
        "서울시교육청, 폭염 대비 단축수업 확대",
        "",
    ),
    (  # one statistic of two countries: `UK` and `US` are names, not function words
        "UK inflation falls to 2.1% in June",
        "Consumer prices rose 2.1% in the year to June, the Office for National Statistics said.",
        "US inflation falls to 2.1% in June",
        "Consumer prices rose 2.1% in the year to June, the Labor Department said.",
    ),
    (  # the same, one outlet writing the country with dots (`U.S.`): the dots keep it a name
        "U.S. inflation falls to 3.2% in October",
        "Consumer prices in the U.S. rose 3.2% from a year earlier, the Labor Department said.",
        "UK inflation falls to 3.2% in October",
        "Consumer prices in the UK rose 3.2% from a year earlier, the Office for National "
        "Statistics said.",
    ),
    (  # one company's insiders, two sales (the amounts differ)
        "Slack director sells $40m of stock",
        "A director of Slack Technologies sold shares of the company on Monday, a filing shows.",
        "Slack insider unloads shares worth $14m",
        "An insider of Slack Technologies sold shares of the company on Monday, a filing shows.",
    ),
    (  # a lottery's two draws
        "EuroMillions results: winning numbers for Friday, January 6",
        "Here are the winning EuroMillions numbers for tonight's draw and the jackpot on offer.",
        "EuroMillions draw: the numbers for Tuesday, January 10",
        "Here are the winning EuroMillions numbers for tonight's draw and the jackpot on offer.",
    ),
    (  # one headline, numbered editions of a series
        "Quote #17705",
        "",
        "Quote #17707",
        "",
    ),
    (  # the same, with a lead that repeats the series' standing line
        "The Weekly Briefing, episode 41",
        "Our weekly look at the week's technology news, with the editors of the desk.",
        "The Weekly Briefing, episode 42",
        "Our weekly look at the week's technology news, with the editors of the desk.",
    ),
    (  # same template, another company (tickers differ)
        "테슬라, 장중 3% 이상 급등",
        "첨단 모빌리티 및 신재생에너지 기업 테슬라(TSLA) 주식이 3거래일 연속 상승세다.",
        "AMD, 장중 3% 이상 급등",
        "글로벌 비메모리 반도체 기업 AMD(AMD) 주식이 3거래일 연속 상승세다.",
    ),
    (  # two days' closes of an index
        "코스피, 2,603.47 마감…외국인 순매수",
        "",
        "코스피, 2,572.42 마감…외국인 순매수",
        "",
    ),
    (  # one subject, two launches: two words differ on each side
        "[속보] 북한, 동해상으로 탄도미사일 발사",
        "",
        "[속보] 북한, 서해상으로 순항미사일 발사",
        "",
    ),
    (  # the same, one of them with its source named first
        "[속보] 합참 “북한, 동해상으로 탄도미사일 발사”",
        "",
        "북한, 서해상으로 순항미사일 발사",
        "",
    ),
    (  # a source's report of one subject's act beside a second subject's
        "경찰 “A씨, 범행 일체 자백”",
        "",
        "B씨, 혐의 전면 부인",
        "",
    ),
    (  # the same without leads, the subject of one of several words
        "아메리프라이즈 파이낸셜, 장중 3% 이상 급등",
        "",
        "램리서치, 장중 3% 이상 급등",
        "",
    ),
    (  # same company, another insider sale (different amounts in the titles)
        "액센츄어 경영진 2억1700만원어치 클래스 A 지분 매도",
        "컨설팅 기업 액센츄어 경영진인 운러치 조에가 지난 7월 28일 클래스 A 보통주를 매도했다.",
        "액센츄어 경영진 2억9300만원어치 클래스 A 지분 매도",
        "컨설팅 기업 액센츄어 경영진인 슉 엘린이 지난 7월 28일 클래스 A 보통주를 매도했다.",
    ),
    (  # a daily template about two products of one issuer, holdings shared
        "2022년 7월 29일(금) 아크 핀테크 이노베이션 ETF, 캐시 우드가 사고 판 종목은?",
        "캐시 우드가 이끄는 아크 핀테크 이노베이션 ETF(ARKF)가 일일 거래 내역을 공개했다. "
        "로쿠(ROKU)",
        "2022년 7월 29일(금) 아크 차세대 인터넷 ETF, 캐시 우드가 사고 판 종목은?",
        "캐시 우드가 이끄는 아크 차세대 인터넷 ETF(ARKW)가 일일 거래 내역을 공개했다. 로쿠(ROKU)",
    ),
    (  # another person's statement about the event
        "이재명, 참고인 사망에 “나랑 무슨 상관인가? 무당의 나라 됐다”",
        "",
        "윤희숙 “이재명, 참고인 죽음에도 무슨 상관? 참 잔인하다”",
        "",
    ),
    (  # English: the same kind of news about another company
        "Tesla shares rise 5% on delivery beat",
        "Tesla stock jumped 5% after second-quarter deliveries beat estimates.",
        "Ford shares rise 5% on strong truck sales",
        "Ford stock climbed 5% after the automaker reported strong F-150 sales.",
    ),
    (
        "Microsoft to cut 9,000 jobs",
        "Microsoft said it will lay off about 9,000 employees.",
        "Intel to cut 15,000 jobs",
        "Intel said it will lay off about 15,000 employees.",
    ),
    (  # two agencies' statements on one matter: short names do not make them one subject
        "한은, “가계부채 증가세 여전히 높아”…경고",
        "한국은행은 가계부채 증가세가 여전히 높다고 경고했다.",
        "금감원, “가계부채 관리 강화”…은행 점검",
        "금융감독원은 가계부채 관리를 위해 은행 점검에 나선다고 밝혔다.",
    ),
    (  # two funding rounds: the later item recalls the earlier amount, not the other way round
        "토스, 500억원 투자 유치",
        "비바리퍼블리카가 운영하는 토스가 500억원 규모의 투자를 유치했다고 2일 밝혔다.",
        "토스, 1000억원 투자 유치…기업가치 10조원",
        "토스가 1000억원 규모의 추가 투자를 유치했다. 지난달 500억원 유치에 이은 것이다.",
    ),
    (  # a series' standing introduction under two unrelated headlines
        "신사임당 주언규 “먹튀했냐고요?” [한판승부]",
        "진중권 작가와 김성회 정치연구소 소장이 매일 저녁 시사 현안을 두고 "
        "치열하게 맞붙는 한판승부, 오늘의 초대석 손님을 만나 이야기를 나눠봅니다.",
        "이재갑 “지난 2년 반이 정치방역? 국민 무시 프레임” [한판승부]",
        "진중권 작가와 김성회 정치연구소 소장이 매일 저녁 시사 현안을 두고 "
        "치열하게 맞붙는 한판승부, 오늘의 초대석 손님을 만나 이야기를 나눠봅니다.",
    ),
    (  # headlines alone, one subject, two acts
        "[속보] 尹대통령, 국무회의 주재",
        "",
        "[속보] 尹대통령, 비상계엄 선포",
        "",
    ),
    (  # a daily column: the date is all that differs
        "[오늘의 운세] 12월 2일",
        "쥐띠 오늘은 금전운이 좋습니다. 소띠 귀인을 만납니다.",
        "[오늘의 운세] 12월 3일",
        "쥐띠 새로운 일을 시작하기 좋습니다. 소띠 건강에 유의하세요.",
    ),
    (  # a short template, one name apart
        "[부고] 홍길동씨 별세",
        "홍길동씨 별세, 홍영희씨 부친상 = 2일 서울대병원 장례식장, 발인 4일",
        "[부고] 김철수씨 별세",
        "김철수씨 별세, 김민수씨 부친상 = 2일 삼성서울병원 장례식장, 발인 4일",
    ),
    (  # two quakes of one day: a magnitude is a figure though it has no unit
        "Magnitude 5.2 earthquake hits eastern Turkey",
        "A magnitude 5.2 earthquake struck eastern Turkey on Monday, AFAD said.",
        "Magnitude 6.1 earthquake hits western Turkey",
        "A magnitude 6.1 earthquake struck western Turkey on Monday, AFAD said.",
    ),
    (  # one publisher, two games
        "넷마블, ‘세븐나이츠’ 출시 5주년 대규모 업데이트",
        "넷마블이 모바일 게임 세븐나이츠의 출시 5주년을 맞아 신규 영웅과 이벤트를 선보인다고 "
        "2일 밝혔다.",
        "넷마블, ‘마블 퓨처파이트’ 신규 캐릭터 업데이트",
        "넷마블이 모바일 게임 마블 퓨처파이트에 신규 캐릭터와 이벤트를 추가한다고 2일 밝혔다.",
    ),
    (  # English: a product line and its maker lead, neither item names the other's
        "Apple Watch gets blood pressure alerts",
        "Apple Watch owners will get hypertension notifications in a software update next week.",
        "Apple unveils thinner iPhone Air",
        "Apple introduced the iPhone Air on Tuesday, its thinnest phone yet.",
    ),
    (  # local news, one template, two places
        "부산 아파트 화재…1명 사망",
        "2일 오전 3시께 부산 해운대구의 한 아파트에서 불이 나 주민 1명이 숨졌다. 소방당국은 화재 "
        "원인을 조사하고 있다.",
        "인천 공장 화재…1명 사망",
        "2일 오후 인천 서구의 한 공장에서 불이 나 근로자 1명이 숨졌다. 소방당국은 화재 원인을 "
        "조사하고 있다.",
    ),
    (  # two days' closes of one index: the headlines move opposite ways
        "코스피, 외국인 매수에 상승 마감…2450선 회복",
        "코스피가 외국인과 기관의 동반 매수에 힘입어 상승 마감했다. 29일 한국거래소에 따르면 "
        "코스피는 전 거래일보다 15.2포인트 오른 2451.5에 장을 마쳤다.",
        "코스피, 기관 매도에 하락 마감…2430선 후퇴",
        "코스피가 기관의 매도세에 하락 마감했다. 30일 한국거래소에 따르면 코스피는 전 "
        "거래일보다 20.1포인트 내린 2431.4에 장을 마쳤다.",
    ),
    (
        "Stocks close higher as tech rally extends",
        "Wall Street closed higher on Monday as technology shares extended their rally, with the "
        "Nasdaq up 1.2%.",
        "Stocks close lower as tech rally fades",
        "Wall Street closed lower on Tuesday as technology shares gave back gains, with the Nasdaq "
        "down 0.8%.",
    ),
    (  # two weeks' draws: different measures (rounds) in the headlines
        "로또 제1151회 1등 당첨번호 3·7·12·25·33·41",
        "동행복권은 제1151회 로또 추첨 결과 1등 당첨번호가 3, 7, 12, 25, 33, 41로 결정됐다고 "
        "밝혔다. 1등 당첨자는 12명이다.",
        "로또 제1152회 1등 당첨번호 5·9·17·22·30·44",
        "동행복권은 제1152회 로또 추첨 결과 1등 당첨번호가 5, 9, 17, 22, 30, 44로 결정됐다고 "
        "밝혔다. 1등 당첨자는 9명이다.",
    ),
    (  # one decision of two central banks, one named by its short name
        "Fed holds interest rates steady",
        "The Federal Reserve left its benchmark rate unchanged on Wednesday.",
        "Bank of England holds interest rates steady",
        "The Bank of England left its benchmark rate unchanged on Thursday.",
    ),
    (  # one decision of two central banks, headlines only
        "[속보] 한은, 기준금리 0.25%p 인상…연 3.5%",
        "",
        "[속보] 美연준, 기준금리 0.25%p 인상",
        "",
    ),
    (  # two meetings of one central bank: a raise, then a hold at the rate it reached
        "한국은행, 기준금리 0.25%p 인상…연 3.25%",
        "",
        "한은 금통위, 기준금리 동결…연 3.25% 유지",
        "",
    ),
    (  # two instances of one trial
        "‘회삿돈 횡령’ 기획사 대표, 1심 징역 2년",
        "",
        "‘회삿돈 횡령’ 기획사 대표, 항소심서 무죄",
        "",
    ),
    (  # two stages of one policy
        "금융위, 스트레스 DSR 2단계 9월 시행…수도권 1.2%p",
        "",
        "스트레스 DSR 3단계 7월 시행…지방 주담대는 유예",
        "",
    ),
    (  # a ban, then its end
        "공매도 전면 금지…코스피·코스닥 전 종목",
        "",
        "공매도 17개월 만에 재개…코스피·코스닥 전 종목",
        "",
    ),
    (  # unrelated news of the same day
        "히틀러 손목시계 14억원 낙찰에…유대인 사회 '부글부글'",
        "히틀러의 것으로 알려진 손목시계가 미국 경매에서 낙찰되자 유대인 사회가 반발했다.",
        "러시아 가스프롬 “라트비아 가스 공급 중단”",
        "러시아 국영 가스 회사 가스프롬이 라트비아에 가스 공급을 전면 중단했다.",
    ),
]


@pytest.mark.parametrize(("title_a", "text_a", "title_b", "text_b"), SAME)
def test_same_event_from_two_outlets(title_a: str, text_a: str, title_b: str, text_b: str) -> None:
    a, b = features(title_a, text_a), features(title_b, text_b)
    assert same_story(a, b), explain(a, b).reason
    assert same_story(b, a)


@pytest.mark.parametrize(("title_a", "text_a", "title_b", "text_b"), DIFFERENT)
def test_different_events(title_a: str, text_a: str, title_b: str, text_b: str) -> None:
    a, b = features(title_a, text_a), features(title_b, text_b)
    assert not same_story(a, b), explain(a, b).reason


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("[속보] 코로나 신규확진 8만2002명", "코로나 신규확진 8만2002명"),
        ("바이든, 코로나19 재확진(종합)", "바이든 코로나19 재확진"),
        ("“영혼 없는 섬사람들에게 바친다”…이준석", "영혼 없는 섬사람들에게 바친다 이준석"),
    ],
)
def test_clean_title(title: str, expected: str) -> None:
    assert clean_title(title) == expected


def test_a_broken_feeds_item_is_read_like_any_other() -> None:
    """Digits too long for a float are no figure (reading them raised), and a whole article given
    as an item's title is read, and stored, no longer than a headline."""
    digits = "1" * 400 + "억원"
    assert numbers(digits) == frozenset()
    broken = features(digits, f"{digits} {digits}")
    assert StoryFeatures.from_json(json.loads(json.dumps(broken.to_json()))) == broken
    article = "정부, 인공지능 산업에 3조5천억원 금융지원 (TSLA) " * 20000
    read = features(article, "")
    assert len(read.title) <= TITLE_CHARS
    assert read == features(article[:TITLE_CHARS], "")


def test_numbers_keep_units_and_values() -> None:
    assert numbers("영업이익 7922억 원") == numbers("영업이익 7922억원")
    assert "82002명" in numbers("신규확진 8만2002명")
    assert "4.2%" in numbers("평균금리 4.2%")
    assert not numbers("30일 오전 9시")
    assert numbers("연봉 3천만원") == {"3e+07원"}
    assert numbers("1조2천억원") == {"1.2e+12원"}
    assert numbers("금리 0.5%p 상승") == numbers("금리 0.5%포인트 상승") == {"0.5%p"}
    assert numbers("사망35명") == {"35명"}
    # after a space a figure goes on only with another multiplier, or after 만
    assert numbers("4조 7408억원") == {"4.7408e+12원"} and numbers("8만 2002명") == {"82002명"}
    assert numbers("영업익 14조 12%↑") == numbers("영업익 14조…12%↑") == {"1.4e+13", "12%"}
    assert numbers(clean_title("월 4~5만원대 요금제")) == {"50000원~대"}  # a range: no 9만, no 5만4
    assert numbers("100여 명") == numbers("100여명") == {"100명~"}
    # a word after the figure that starts with a multiplier's syllable is no multiplier
    assert numbers("펀드 5천억 조성") == numbers("펀드 5000억 조성") == {"5e+11"}
    assert numbers("100만 만족") == {"1e+06"}
    # a Latin unit's letters that start a word are no unit: an hour, a count of times
    assert not numbers("landfall at 3 pm") and not numbers("raised 3 times")
    assert not numbers("the team 2 won awards")  # `won` after a small count is the verb
    assert numbers("more than 1,500 people") == {"1500#~"}  # a hedged count
    assert numbers("quake kills 1,500") == {"1500#"} and not numbers("5 people, in 2024")
    assert numbers("환율은 1,386.5원에 마감") == {"1386.5원"}  # no count of 1,386 besides
    assert numbers("코스피, 2,603.47 마감") == {"2603.47"}  # an index's close, though bare
    assert total("3명 사망·2명 부상", "명") == "5명" and total("2명 사상", "명") is None


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("소비 넉 달째 감소", "소비 4개월 연속 감소"),  # month words are figures
        ("소비 4달 연속 감소", "소비 4개월 연속 감소"),
        ("매출 1,234억 원", "매출 1234억원"),  # thousands separators
        ("&#039;법카&#039; 참고인 1,000명", "'법카' 참고인 1000명"),  # double-escaped entities
        ("수출 3.2%↓", "수출 3.2% 줄어"),  # arrows and verbs of direction
        ("shares jump 12 percent", "shares jump 12%"),  # English spells the sign out
        ("shares jump 12 per cent", "shares jump 12 pct"),
        ("recalls 2 million cars", "recalls 2,000,000 cars"),  # an English count
        ("deal worth £3bn", "deal worth 3 billion pounds"),  # a currency sign or its word
        ("a fund of 500 billion won", "5000억원 펀드"),
        ("completes $69 billion takeover", "closes 69 bln dlr deal"),  # the wire's shorthand
        ("recalls 2 million cars", "recalls 2 mln cars"),
    ],
)
def test_numbers_read_the_same_figure_in_other_wordings(one: str, other: str) -> None:
    assert numbers(clean_title(one)) == numbers(clean_title(other)) != frozenset()


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("美국무, 내주 동남아 순방…“北 얘기할 것”", "미국 국무 내주 동남아 순방 북한 얘기할 것"),
        ("확진 사흘째 8만명대", "확진 3일째 8만명대"),
        ("엘지전자 2분기 영업이익 12% 줄어", "LG전자 2분기 영업이익 12% 감소"),
        ("경찰관 흉기에 숨져", "경찰관 흉기에 사망"),
        ("교사 선발 ‘반토막’", "교사 선발 절반"),
        ("기획사 대표, 1심 징역 6월", "기획사 대표 1심 징역 6개월"),  # court style for months
        ("징역 1년 6월 선고", "징역 1년 6개월 선고"),
        ("징역 6월에 집행유예 2년", "징역 6개월에 집행유예 2년"),
        ("수출 두 배로…세 곳 신설", "수출 2배로 3곳 신설"),  # counts in words
        ("삼성SDI 2Q 영업익 4290억", "삼성sdi 2분기 영업이익 4290억"),  # results shorthand
        ("작년 순익 감소", "지난해 순이익 감소"),
        ("<속보> 바이든 재확진", "바이든 재확진"),  # angle-bracket labels
        ("美 1월 CPI 3.1% 상승", "미국 1월 소비자물가지수 3.1% 상승"),  # a term and its acronym
        ("UPDATE 2-Tesla recalls cars", "EXCLUSIVE-Tesla recalls cars"),  # the wire's labels
        ("BREAKING: Fed raises rates", "Fed raises rates - live updates"),
    ],
)
def test_headline_wordings_read_alike(one: str, other: str) -> None:
    assert clean_title(one) == clean_title(other)


@pytest.mark.parametrize(
    "lead",
    [
        "BEIJING, April 16 (Reuters) - China's economy grew 5.3%",
        "PORTLAND, Ore. (AP) — China's economy grew 5.3%",
        "SYDNEY/LONDON (Reuters) - China's economy grew 5.3%",
    ],
)
def test_a_wire_dateline_is_no_part_of_the_lead(lead: str) -> None:
    """Every item of one agency opens so: it made unrelated leads alike."""
    assert clean_lead(lead) == "china s economy grew 5.3%"
    assert "reuters" in clean_lead("Apple said on Monday (Reuters) - no")  # a dateline opens


def test_an_analysis_label_stays_a_word_of_the_headline() -> None:
    assert clean_title("ANALYSIS-Fed faces tricky path") == "analysis fed faces tricky path"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("AI 정책금융 3.5조 투입", "AI 정책금융 3조5천억 투입"),
        ("영업이익 10.4조", "영업이익 10조 4000억"),
        ("펀드 5천억 조성", "펀드 5000억 조성"),
        ("순이익 14.1억", "순이익 14억1000만"),
        ("순이익 1천112억", "순이익 1112억"),  # the thousands go with the 억 after them
    ],
)
def test_figures_are_spelled_alike(one: str, other: str) -> None:
    assert features(one, "").title == features(other, "").title


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("윤희숙 “이재명, 참고인 죽음에도 무슨 상관?”", "윤희숙"),
        ("[속보] 바이든, 코로나19 재확진", "바이든"),
        ("태풍 '송다' 영향에 한라산 100㎜ 폭우", ""),  # single quotes name, they do not quote
        ("소비 4개월 연속 감소", ""),
        ("[속보] 尹대통령, 비상계엄 선포", "尹대통령"),  # a Hanja abbreviation leads too
        ("정부 “수도권에 5만가구 추가 공급”", ""),  # a collective subject names no one
        ("[속보] 美연준, 기준금리 0.75%p 인상", "연준"),  # a country before the name qualifies it
        ("일본 기시다 “추가 경제대책 검토”", "기시다"),
        ("로봇, 자율주행, 클라우드 AI 분야 3조 5000억 원 지원", ""),  # a list opens it
        ("반도체, 배터리 등 수출 4개월 연속 감소", ""),
        ("이재명, 윤석열 정부 비판", "이재명"),  # one word after the comma is no list
        ("현대차그룹, 조지아 전기차 공장 기공식", "현대차"),  # a company and its group lead alike
    ],
)
def test_subject_of_a_headline(title: str, expected: str) -> None:
    assert subject(title) == expected


@pytest.mark.parametrize(
    ("title", "lead", "expected"),
    [
        ("Tesla shares rise 5% on delivery beat", "Tesla stock jumped 5%.", "tesla"),
        ("OpenAI unveils GPT-5", "On Monday OpenAI released GPT-5.", "openai"),
        ("Alphabet's Google launches Gemini 3", "Alphabet's Google released it.", ""),
        ("Strong quake hits southern Japan", "A strong earthquake hit Japan.", ""),  # no name
        ("The Fed holds rates", "The Fed held rates.", ""),
        ("Stocks fall as yields climb", "Stocks fell on Monday.", ""),
        ("Federal Reserve lowers rates", "The Federal Reserve cut rates.", "federal reserve"),
        ("Bank of England holds rates", "The Bank of England kept rates.", "bank of england"),
        ("Fed Cuts Rates By A Quarter Point", "The Fed cut rates.", "fed"),  # title case
        ("Fed holds rates steady", "The Federal Reserve left rates unchanged.", "fed"),  # spelt out
        ("Fed holds rates steady", "Policymakers left rates unchanged.", ""),
    ],
)
def test_subject_of_an_english_headline_is_a_name_its_lead_capitalises(
    title: str, lead: str, expected: str
) -> None:
    assert subject(title, lead) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("규모 5.2 지진", {"5.2"}),
        ("iOS 18.1 update", {"18.1"}),
        ("7.29 부동산 대책", set()),  # a date
        ("2022.07.30 발표", set()),
        ("version 5.1.3", set()),
    ],
)
def test_bare_figures_count_only_with_one_decimal(text: str, expected: set[str]) -> None:
    assert numbers(text) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("코스피 상승 마감", "up"),
        ("stocks close lower as tech rally fades", "down"),
        ("nvidia slides as outlook disappoints", "down"),
        ("코스피 상승 코스닥 하락 엇갈린 마감", ""),  # both ways: says no one direction
        ("수출 증가 수입 감소", ""),  # quantities, not prices
        ("한국은행 기준금리 동결", ""),
    ],
)
def test_direction_of_a_headline(title: str, expected: str) -> None:
    assert direction(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("한은 기준금리 동결", {"rate": {"held"}}),
        ("ecb raises rates by a quarter point", {"rate": {"raised"}}),
        ("fed keeps interest rates unchanged", {"rate": {"held"}}),
        ("기준금리 동결 대출금리 인상", {"rate": {"held", "raised"}}),  # two outcomes
        ("인상적인 무대 인하대 축제", {}),  # impressive; a university
        ("jury finds him not guilty", {"verdict": {"cleared"}}),
        ("법원 징역 3년 선고", {"verdict": {"guilty"}}),
        ("senate passes the bill", {"vote": {"passed"}}),
        ("지하철 운행 중단", {"halt": {"stopped"}}),
        ("공매도 금지 해제 시점 불투명", {"halt": {"stopped", "resumed"}}),  # a ban, its end
        ("개정안 본회의 부결", {"vote": {"rejected"}}),
    ],
)
def test_decisions_of_a_headline(title: str, expected: dict[str, set[str]]) -> None:
    assert decisions(title) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Crypto market update #12", "Stock market update #13"),
        ("Podcast episode 41: AI chips", "Podcast episode 42: AI safety"),
        ("반도체 시황 브리핑 #12", "부동산 시황 브리핑 #13"),
    ],
)
def test_two_numbers_of_a_series_are_two_stories(one: str, other: str) -> None:
    """Differing by a word as well as the number, they merged: a later edition became an
    `also:` line under an earlier one, and its readers never got it."""
    assert explain(features(one, ""), features(other, "")).reason.startswith(
        "other numbers of a series"
    )


def test_a_decision_is_another_when_the_other_headline_names_none_of_its_outcomes() -> None:
    """`Fed holds rates steady, signals two cuts` names two outcomes: read as none, it let a
    later meeting's decision join the story of a hike, and its chats never heard of it."""
    hike = features("Fed raises rates by 0.25 point", "The Federal Reserve raised its rate.")
    hold = features(
        "Fed holds rates steady, signals two cuts next year",
        "The Federal Reserve held rates steady and signalled two cuts next year.",
    )
    assert explain(hike, hold).reason == "other decisions in the titles (rate raised vs cut, held)"
    both = features("기준금리 동결…대출금리 인상", "")
    assert explain(both, features("한은 기준금리 동결", "")).same, "an outcome in common"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("부산 아파트 화재 1명 사망", "부산"),
        ("영덕군 산불 확산", "영덕"),
        ("부산서 규모 3.1 지진", "부산"),
        ("충청남도 조류인플루엔자 확진", "충청남도"),
        ("화성 탐사선 착륙 성공", ""),  # Mars, not the city
        ("전주 대비 2% 상승", ""),  # the week before, not the city
        ("아파트 화재 1명 사망", ""),
        ("서울 36도 올들어 가장 더웠다", ""),  # one heat wave reaches every place
        ("", ""),
    ],
)
def test_leading_place_of_a_headline(title: str, expected: str) -> None:
    assert leading_place(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("컴투스, ‘서머너즈 워’ 업데이트", ("서머너즈 워",)),
        ("《오징어 게임》 시즌2 공개", ("오징어 게임",)),
        ("<단독> 넷마블, ‘세븐나이츠’ 업데이트", ("세븐나이츠",)),  # a label quotes nothing
        ("&#039;인사 번복&#039; 경무관 징계", ("인사 번복",)),
        ("Apple's 'Glowtime' event: what to expect", ("glowtime",)),  # an apostrophe opens none
        ("Apple's new iPhone", ()),
        ("OpenAI releases GPT-5 and o3-mini", ("gpt-5", "o3-mini")),  # model names need none
        ("Apple Q2 revenue tops $90bn", ("q2",)),
        ("시즌2 공개", ()),  # only an English headline's
    ],
)
def test_quoted_terms_of_a_headline(title: str, expected: tuple[str, ...]) -> None:
    assert quoted(title) == expected


@pytest.mark.parametrize(
    ("title", "lead", "expected"),
    [
        ("AI startup raises funds", "The startup raised money for its AI chips.", "english"),
        ("Le nouveau président investi", "Le président a prêté serment à Accra.", "french"),
        ("Пожар в гостинице Москвы", "Число жертв пожара в гостинице выросло до трех", "russian"),
        ("Antalet döda i trafiken ökar", "Fler har dött i trafiken i år än förra året.", "swedish"),
    ],
)
def test_an_alphabetic_item_is_read_in_its_language(title: str, lead: str, expected: str) -> None:
    item = features(title, lead)
    assert item.alphabetic and item.language.name == expected
    if expected == "english":
        assert "ai" in item.title_grams and "the" not in item.lead_grams


def test_amounts_with_a_currency_sign_are_money() -> None:
    assert numbers("Lotto jackpot of $60 million") == numbers("$60m jackpot") == {"6e+07달러"}
    assert numbers("MoD spends £30 million") == {"3e+07파운드"}
    assert numbers("Director sells $39,655,442.33 in stock") == {"3.96554e+07달러"}
    assert numbers("EU fines Google €2.4bn") >= {"2.4e+09유로"}


def test_dates_read_month_and_day() -> None:
    assert dates(clean_title("Fairfax wellness calendar, Aug. 9-15")) == {"8/9"}
    assert dates(clean_title("EuroMillions results for Friday, January 6")) == {"1/6"}
    assert dates(clean_title("6 January: what happened")) == {"1/6"}
    assert dates(clean_title("[17.08.2018 - 20:35 Uhr] Brandmeldeanlagenalarm")) == {"8/17"}
    assert dates("[오늘의 운세] 12월 2일") == {"12/2"}
    assert dates("2022년 7월 29일(금) 아크 ETF") == {"7/29"}
    assert dates("30일 신규 확진 8만명") == frozenset(), "a day alone may be a count of days"


def test_headlines_alone_agree_on_figures_an_ellipsis_or_a_space_separates() -> None:
    """`14조…12%` was read as one figure, 14조 and 12 more, in per cent: it contradicted the 12 %
    of the other headline, and two outlets' reports of one results release were kept apart."""
    verdict = explain(
        features("삼성전자, 2분기 영업이익 14조원…전년 대비 12% 증가", ""),
        features("[속보] 삼성전자 2Q 영업익 14조…12%↑", ""),
    )
    assert verdict.same, verdict.reason


def test_hedged_figure_never_contradicts_the_exact_one() -> None:
    assert numbers("신규확진 8만명대") == {"80000명~대"}
    assert numbers("100여명 대피") == {"100명~"}
    a = features("코로나19 확진 사흘째 8만명대", "30일 0시 기준 신규 확진자가 8만2002명 발생했다.")
    b = features("코로나19 신규 확진 8만2002명", "30일 0시 기준 신규 확진자가 8만2002명 발생했다.")
    assert not explain(a, b).reason.startswith("different figures")


def test_features_round_trip_through_json() -> None:
    item = features(*SAME[0][:2])
    assert StoryFeatures.from_json(json.loads(json.dumps(item.to_json()))) == item


def test_features_of_older_formats_still_read() -> None:
    item = features(*SAME[0][:2])
    unknown_subject = replace(item, subject="")
    old = item.to_json() | {"v": 1, "signature": [1, 2, 3]}
    assert StoryFeatures.from_json(old) == unknown_subject
    second = {k: v for k, v in item.to_json().items() if k != "subject"} | {"v": 2}
    assert StoryFeatures.from_json(second) == unknown_subject
    with pytest.raises(ValueError, match="stories: unknown features format"):
        StoryFeatures.from_json(item.to_json() | {"v": 99})


def test_format_4_has_no_quoted_terms_and_keeps_the_rest() -> None:
    item = features("넷마블, ‘세븐나이츠’ 대규모 업데이트", "넷마블이 세븐나이츠를 업데이트했다.")
    assert item.quoted == ("세븐나이츠",)
    stored = {k: v for k, v in item.to_json().items() if k != "quoted"} | {"v": 4}
    assert StoryFeatures.from_json(stored) == replace(item, quoted=())


def test_names_of_older_formats_are_recomputed_from_their_text() -> None:
    item = features("The Fed holds rates", "The Federal Reserve held its rate on Wednesday.")
    assert "the" not in item.names | item.lead_names
    stored = item.to_json() | {"v": 5, "names": ["the", "fed", "holds", "rates"]}
    assert StoryFeatures.from_json(stored) == item
    korean = features("한은, 기준금리 동결", "한국은행이 기준금리를 동결했다.")
    stored = korean.to_json() | {"v": 5, "names": ["한은", "기준금리"]}
    assert StoryFeatures.from_json(stored) == korean


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Tesla hikes prices", "Tesla raises prices"),
        ("Apple unveils Vision Pro", "Apple launches Vision Pro"),
        ("British Museum director quits", "British Museum director resigns"),
        ("Stocks tumble", "Stocks fall"),
        ("SEC probe of Binance", "SEC investigation of Binance"),
    ],
)
def test_english_headline_verbs_read_as_their_plain_synonyms(one: str, other: str) -> None:
    assert features(one, "").title_grams == features(other, "").title_grams


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Fed raises rates by 0.25 point", "Fed hikes rates by 0.25 point"),
        ("Apple unveils Vision Pro headset", "Apple launches Vision Pro headset"),
    ],
)
def test_a_headline_reworded_by_a_synonym_verb_is_no_template_of_two_subjects(
    one: str, other: str
) -> None:
    """The template veto read the differing verb (`raises` / `hikes`) as two subjects."""
    assert explain(features(one, ""), features(other, "")).same
    assert not explain(
        features("Toyota recalls cars over brake fault", ""),
        features("Honda recalls cars over brake fault", ""),
    ).same


def test_one_function_word_of_another_language_leaves_a_headline_english() -> None:
    """`pro` is a Spanish function word: `Apple unveils Vision Pro` was read, and stemmed, as
    Spanish; a Russian headline has function words enough."""
    assert language("apple unveils vision pro").name == "english"
    assert language("в москве 62 человека пострадали от сильных холодов").name == "russian"


def test_a_korean_item_is_compared_by_characters_even_under_an_english_headline() -> None:
    english_headline = features("Samsung Q2 results", "삼성전자가 2분기 잠정 실적을 발표했다.")
    assert not english_headline.alphabetic
    assert {"sa", "am", "ms"} <= english_headline.title_grams
    english = features("Samsung Q2 results", "Samsung Electronics reported its results.")
    assert english.alphabetic and "samsung" in english.title_grams


def test_format_6_figures_are_spelled_when_read() -> None:
    item = features("AI 정책금융 3.5조 투입", "금융당국이 3.5조를 공급한다.")
    stored = item.to_json() | {"v": 6, "title": "ai 정책금융 3.5조 투입", "lead": "3.5조를 공급"}
    read = StoryFeatures.from_json(stored)
    assert (read.title, read.lead) == ("ai 정책금융 3조5000억 투입", "3조5000억를 공급")


def test_format_8_company_abbreviations_are_spelled_out_when_read() -> None:
    item = features("삼성電·현대車 실적 발표", "")
    assert item.title == "삼성전자 현대차 실적 발표"
    stored = item.to_json() | {"v": 8, "title": "삼성電 현대車 실적 발표", "names": ["삼성電"]}
    assert StoryFeatures.from_json(stored) == item


def test_format_7_terms_take_their_acronym_when_read() -> None:
    item = features("인공지능 국내총생산 기여 확대", "인공지능이 가상화폐 시장에 미치는 영향")
    assert (item.title, item.lead) == ("ai gdp 기여 확대", "ai이 가상자산 시장에 미치는 영향")
    stored = item.to_json() | {
        "v": 7,
        "title": "인공지능 국내총생산 기여 확대",
        "lead": "인공지능이 가상화폐 시장에 미치는 영향",
        "names": ["인공지능", "국내총생산", "기여", "확대"],
    }
    assert StoryFeatures.from_json(stored) == item


def test_format_3_keeps_its_subject_and_takes_the_new_wording() -> None:
    stored = features("이재명, 매출 두 배", "").to_json() | {"v": 3, "title": "이재명 매출 두 배"}
    read = StoryFeatures.from_json(stored)
    assert read.title == "이재명 매출 2배"
    assert read.subject == "이재명"


def test_format_2_titles_are_brought_to_the_canonical_wording() -> None:
    stored = features("美 소비 넉 달째 줄어", "").to_json()
    stored |= {"v": 2, "title": "美 소비 4개월째 줄어", "names": ["美", "소비", "줄어"]}
    read = StoryFeatures.from_json(stored)
    assert read.title == features("미국 소비 4개월째 감소", "").title
    assert {"미국", "감소"} <= read.names


def test_index_matches_within_window_and_forgets_after() -> None:
    index = StoryIndex(window_seconds=100.0)
    first, second = features(*SAME[1][:2]), features(*SAME[1][2:])
    index.add(7, first, at=0.0)
    assert index.matches(second, at=50.0) == [7]
    assert index.matches(features(*DIFFERENT[2][:2]), at=50.0) == []
    index.expire(now=150.0)
    assert len(index) == 0
    assert index.matches(second, at=150.0) == []


def test_index_renames_joins_and_drops_stories() -> None:
    index = StoryIndex(window_seconds=100.0)
    first, second = features(*SAME[1][:2]), features(*SAME[1][2:])
    index.add(-1, first, at=0.0)
    index.rename(-1, 7)
    assert index.matches(second, at=50.0) == [7] and -1 not in index
    index.add(-2, second, at=60.0)
    index.rename(-2, 7)  # a story the index already has: one story, its latest item's time
    assert len(index) == 1 and index.matches(second, at=150.0) == [7]
    index.drop(7)
    assert len(index) == 0 and index.matches(second, at=60.0) == []
    index.expire(now=1000.0)  # the dropped story's place in the expiry queue is harmless


def test_group_numbers_stories_in_item_order() -> None:
    items = [
        StoryInput(SAME[0][0], SAME[0][1], 10.0),
        StoryInput(DIFFERENT[2][0], DIFFERENT[2][1], 20.0),
        StoryInput(SAME[0][2], SAME[0][3], 30.0),
    ]
    assert group(items) == [0, 1, 0]


def test_words_that_only_look_like_counts_stay() -> None:
    assert clean_title("한명숙 전 총리, 세 곳에서") == "한명숙 전 총리 3곳에서"


@pytest.mark.parametrize(
    ("one", "other", "vetoed"),
    [
        ("14억원어치", "14억1000만원어치", False),  # one outlet rounds the amount
        ("매출 4.7조", "매출 4조7408억", False),
        ("14억원어치", "15억원어치", True),
        ("100명 확진", "120명 확진", True),  # one significant digit is no rounding
        ("1300원대", "1290원대", True),  # 1300 up to 1400 and 1290 up to 1300 do not meet
        ("1300원대", "1350원대", False),  # 1350 up to 1360 lies in 1300 up to 1400
        ("8만명대", "7만명대", True),
        ("8만명대", "8만명대", False),
    ],
)
def test_figures_in_titles_agree_when_one_rounds_the_other_or_their_decades_meet(
    one: str, other: str, vetoed: bool
) -> None:
    a = features(f"테슬라 경영진 {one} 지분 매도", "")
    b = features(f"테슬라 경영진 {other} 지분 매도", "")
    assert explain(a, b).reason.startswith("different figures") is vetoed


def test_only_codes_of_a_headline_name_are_tickers() -> None:
    phone = features(
        "보급형 5G 스마트폰 ‘갤럭시A33’ 국내 출시",
        "삼성전자는 보급형 5세대(G) 스마트폰 갤럭시A33을 출시했다. 손떨림 보정(OIS)을 갖췄다.",
    )
    assert phone.tickers == frozenset()
    stock = features("테슬라, 장중 3% 이상 급등", "신재생에너지 기업 테슬라(TSLA) 주식이 상승했다.")
    assert stock.tickers == {"TSLA"}


def test_index_finds_a_headline_only_report_from_an_item_with_a_long_lead() -> None:
    index = StoryIndex()
    index.add(3, features("“펩시 제로에서 구린내 나” 식약처 조사 결과 봤더니…", ""), at=0.0)
    for n, pair in enumerate(SAME + DIFFERENT):
        index.add(10 + n, features(pair[0], pair[1]), at=1.0)
    later = features(
        "펩시 제로 ‘악취’ 의문 풀렸다…식약처 “유통 중 발생”",
        "롯데칠성음료가 출시한 펩시 제로슈거 라임에서 악취가 난다는 민원이 잇따라 접수돼 "
        "식품의약품안전처가 조사에 나선 결과, 제품 자체에는 문제가 없는 것으로 나타났다. "
        "식약처는 유통과정 중 문제의 냄새가 제품에 흡착된 것으로 추정했다. "
        "해당 제품은 회수 대상이 아니라고 설명했다.",
    )
    assert index.matches(later, at=2.0) == [3]


_GROUP_WITH_A_SMALL_BUDGET = """
import random
import bot.stories.index as index
index.POSTINGS_BUDGET = 6
from bot.stories import StoryInput, group
draw = random.Random(3)
words = "반도체 수출 증가 감소 정부 발표 금리 인상 동결 시장 기업 투자 확대 축소".split()
items = [
    StoryInput(" ".join(draw.sample(words, 4)), " ".join(draw.sample(words, 8)), float(n))
    for n in range(300)
]
print(group(items))
"""


def test_grouping_is_the_same_whatever_the_hash_seed() -> None:
    """A restart must group as the last run did: the index's budget cuts common tokens in a fixed
    order, not in the set order that each interpreter's hash seed picks."""
    runs = {
        subprocess.run(
            [sys.executable, "-c", _GROUP_WITH_A_SMALL_BUDGET],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(runs) == 1


def test_a_daily_column_s_next_edition_is_a_new_story() -> None:
    day = 24 * 3600.0
    column = "오늘의 주요 일정"
    monday = "▲10:00 국무회의 ▲14:00 한미 외교장관 회담 ▲16:00 경제관계장관회의"
    tuesday = "▲09:30 국회 본회의 ▲11:00 산업활동동향 발표 ▲15:00 시도지사 회의"
    items = [
        StoryInput(column, monday, 0.0),
        StoryInput(column, monday, 600.0),
        StoryInput(column, tuesday, day),
        StoryInput(column, "", day + 600.0),  # a headline alone, minutes after the day's edition
    ]
    assert group(items) == [0, 0, 1, 1]
